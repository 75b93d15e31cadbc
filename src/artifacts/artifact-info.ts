/** One artifact of a build, as the API lists it. */
export interface ArtifactInfo {
  name: string;
  /** The job that uploaded it. */
  job: string;
  size: number;
  created_at: string;
  expires_at: string;
  /** A number unique to this artifact (the artifact protocol's `database_id`). */
  id?: number;
  /**
   * What the bytes are: absent for the native `artifacts:` key's `.tar.gz`; `zip` (or a single `file`,
   * named `file_name`) for an upload through the artifact protocol (`@actions/artifact`).
   */
  format?: 'zip' | 'file';
  file_name?: string;
  /** `sha256:<hex>` of the bytes, when the uploader sent it (and it matched). */
  digest?: string;
}

/** An upload through the artifact protocol, begun and not yet finalized. */
export interface ArtifactUpload {
  job: string;
  format: 'zip' | 'file';
  file_name?: string;
  /** The uploader's own, shorter retention (never longer than the server's). */
  expires_at?: string;
}

/** The content type and download file name of an artifact. */
export function artifactFileOf(a: ArtifactInfo): { type: string; file: string } {
  if (a.format === 'zip') return { type: 'application/zip', file: `${a.name}.zip` };
  if (a.format === 'file') return { type: 'application/octet-stream', file: a.file_name ?? a.name };
  return { type: 'application/gzip', file: `${a.name}.tar.gz` };
}
