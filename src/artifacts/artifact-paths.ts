import { join } from 'node:path';
import { artifactDiskName } from './artifact-names.ts';

/**
 * Where an artifact's files live: `<dataDir>/artifacts/<build id>/`, named after the artifact's disk name
 * (never the raw name). Callers check the build id, job and name first.
 */
export class ArtifactPaths {
  private readonly dataDir: string;
  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  /** A build's folder; removing it removes every file of its artifacts and uploads. */
  folder(buildId: string): string {
    return join(this.dataDir, 'artifacts', buildId);
  }

  /** The file an upload is written into until it is published (hidden: a dot name). */
  part(buildId: string, job: string, name: string): string {
    return join(this.folder(buildId), `.${artifactDiskName(name)}.${job}.part`);
  }

  /** The folder an artifact-protocol upload stages its blocks in. */
  blocks(buildId: string, job: string, name: string): string {
    return join(this.folder(buildId), `.${artifactDiskName(name)}.${job}.blocks`);
  }

  /** Where the bytes of an artifact live: native ones keep their `.tar.gz` name. */
  file(buildId: string, name: string, format?: 'zip' | 'file'): string {
    const disk = artifactDiskName(name);
    return join(this.folder(buildId), format ? `${disk}.blob` : `${disk}.tar.gz`);
  }
}
