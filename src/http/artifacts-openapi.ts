/** The schemas the artifact and cache routes use. */
export function artifactSchemas(): Record<string, unknown> {
  return {
    Artifact: {
      type: 'object',
      required: ['name', 'job', 'size', 'created_at', 'expires_at'],
      properties: {
        name: { type: 'string' },
        job: { type: 'string', description: 'The job that uploaded it.' },
        size: { type: 'integer', description: 'Bytes as stored (the .tar.gz, the .zip or the file).' },
        created_at: { type: 'string', format: 'date-time' },
        expires_at: {
          type: 'string',
          format: 'date-time',
          description: 'PUSHCI_ARTIFACT_RETENTION after upload.',
        },
        url: { type: 'string', description: 'Download URL (API token).' },
        id: { type: 'integer', description: 'Unique number (the artifact protocol’s id).' },
        format: {
          type: 'string',
          enum: ['zip', 'file'],
          description:
            'Absent: a .tar.gz of the `artifacts:` key. `zip` or `file` (named file_name): uploaded through the artifact protocol.',
        },
        file_name: { type: 'string' },
        digest: { type: 'string', description: '`sha256:<hex>`, when the uploader sent it.' },
      },
    },
    CacheEntry: {
      type: 'object',
      required: ['id', 'key', 'version', 'size', 'created_at', 'ref'],
      properties: {
        id: { type: 'string' },
        key: { type: 'string' },
        version: { type: 'string' },
        size: { type: 'integer' },
        created_at: { type: 'string', format: 'date-time' },
        ref: { type: 'string', description: 'The ref that saved it.' },
      },
    },
  };
}

/** The security scheme of `/job`: a running job's own credential. */
export const JOB_CREDENTIAL_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  description: 'A running job’s credential (pcj_…): minted when the job starts, revoked when it ends.',
};
