import { rmSync } from 'node:fs';
import { nodeClientDir } from './node-client.ts';

let made: string | null = null;

/**
 * A client built on the real `@actions/artifact` (npm), the library upload-artifact@v4 and
 * download-artifact@v4 are made of, with a Node to run it, in a folder the sandbox shows; made once
 * per test process.
 */
export function artifactClient(): string {
  made ??= nodeClientDir({
    prefix: '/var/tmp/pushci-test-artifact-client-',
    pkg: '@actions/artifact',
    file: 'client.mjs',
    script: `import { DefaultArtifactClient } from '@actions/artifact';
const client = new DefaultArtifactClient();
const [op, name, ...rest] = process.argv.slice(2);
try {
  if (op === 'upload') {
    const r = await client.uploadArtifact(name, rest, process.cwd(), {});
    console.log('client: uploaded', name, r.size, r.digest ? 'with digest' : 'no digest');
  } else if (op === 'upload-file') {
    const r = await client.uploadArtifact(name, rest, process.cwd(), { skipArchive: true });
    console.log('client: uploaded file', name, r.size);
  } else if (op === 'list') {
    const { artifacts } = await client.listArtifacts({ latest: true });
    console.log('client: listed', artifacts.map((a) => a.name + ':' + a.size).sort().join(' '));
  } else if (op === 'download') {
    const { artifact } = await client.getArtifact(name);
    const r = await client.downloadArtifact(artifact.id, { path: rest[0], expectedHash: artifact.digest });
    console.log('client: downloaded', name, r.digestMismatch ? 'digest mismatch' : 'digest ok');
  } else if (op === 'delete') {
    console.log('client: deleted', name, (await client.deleteArtifact(name)).id > 0);
  }
} catch (err) {
  console.log('client: failed:', err.message.split('\\n')[0]);
}
`,
  });
  return made;
}

/** Removes the client folder, if one was made (call it in the suite file's `after`). */
export function removeArtifactClient(): void {
  if (made) rmSync(made, { recursive: true, force: true });
  made = null;
}
