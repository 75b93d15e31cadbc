const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => json(ref('Error'), description);
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const job = [{ jobCredential: [] }];
const gzip = (description: string) => ({
  description,
  content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } },
});
const twirpError = {
  type: 'object',
  required: ['code', 'msg'],
  properties: { code: { type: 'string' }, msg: { type: 'string' } },
};
const jobErrors = { '401': error('No live credential of a running job') };

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

/** Paths: the `/job` service running jobs use. */
export function artifactPaths(): Record<string, unknown> {
  return {
    '/job/caches': {
      get: {
        summary:
          'Find the cache to restore: the first key exactly, else the newest entry a later key prefixes',
        security: job,
        parameters: [
          {
            name: 'keys',
            in: 'query',
            required: true,
            schema: { type: 'string' },
            description: 'Comma-separated.',
          },
          { name: 'version', in: 'query', required: true, schema: { type: 'string' } },
        ],
        responses: { '200': json(ref('CacheEntry'), 'Hit'), '204': { description: 'Miss' }, ...jobErrors },
      },
      post: {
        summary: 'Reserve a new cache entry in the job’s ref',
        security: job,
        requestBody: json(
          {
            type: 'object',
            required: ['key', 'version'],
            properties: { key: { type: 'string' }, version: { type: 'string' } },
          },
          'Key and version',
        ),
        responses: {
          '201': json({ type: 'object', properties: { id: { type: 'string' } } }, 'Reserved'),
          '409': error('The key exists (entries are immutable)'),
          ...jobErrors,
        },
      },
    },
    '/job/caches/{id}': {
      get: {
        summary: 'A cache entry’s bytes',
        security: job,
        parameters: [path('id')],
        responses: { '200': gzip('Bytes'), '404': error('Not readable by this job'), ...jobErrors },
      },
      put: {
        summary: 'Upload a reserved entry (PATCH with Content-Range for chunks)',
        security: job,
        parameters: [path('id')],
        responses: {
          '200': json({ type: 'object' }, 'Written'),
          '413': error('Past PUSHCI_CACHE_MAX_BYTES'),
          ...jobErrors,
        },
      },
      patch: {
        summary: 'Upload one chunk (Content-Range: bytes a-b/*)',
        security: job,
        parameters: [path('id')],
        responses: {
          '200': json({ type: 'object' }, 'Written'),
          '413': error('Past PUSHCI_CACHE_MAX_BYTES'),
          ...jobErrors,
        },
      },
      delete: {
        summary: 'Abandon a reserved entry',
        security: job,
        parameters: [path('id')],
        responses: { '204': { description: 'Gone' }, ...jobErrors },
      },
    },
    '/job/caches/{id}/commit': {
      post: {
        summary: 'Make a reserved entry readable (evicts least recently used entries over the cap)',
        security: job,
        parameters: [path('id')],
        responses: { '201': json(ref('CacheEntry'), 'Saved'), ...jobErrors },
      },
    },
    '/job/_apis/artifactcache/cache': {
      get: {
        summary:
          'actions/cache v1: find an entry (keys, version); the step reaches it through its job gateway',
        security: job,
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                result: { type: 'string' },
                archiveLocation: { type: 'string' },
                cacheKey: { type: 'string' },
                scope: { type: 'string' },
              },
            },
            'Hit',
          ),
          '204': { description: 'Miss' },
          ...jobErrors,
        },
      },
    },
    '/job/_apis/artifactcache/caches': {
      post: {
        summary: 'actions/cache v1: reserve {key, version}',
        security: job,
        responses: {
          '200': json({ type: 'object', properties: { cacheId: { type: 'string' } } }, 'Reserved'),
          '409': error('Exists'),
          ...jobErrors,
        },
      },
    },
    '/job/_apis/artifactcache/caches/{id}': {
      patch: {
        summary: 'actions/cache v1: upload a chunk (Content-Range)',
        security: job,
        parameters: [path('id')],
        responses: { '204': { description: 'Written' }, ...jobErrors },
      },
      post: {
        summary: 'actions/cache v1: commit {size}',
        security: job,
        parameters: [path('id')],
        responses: { '204': { description: 'Saved' }, ...jobErrors },
      },
    },
    '/job/_apis/artifactcache/artifacts/{id}': {
      get: {
        summary: 'actions/cache v1: download an entry',
        security: job,
        parameters: [path('id')],
        responses: { '200': gzip('Bytes'), '404': error('Not readable by this job'), ...jobErrors },
      },
    },
    '/job/twirp/github.actions.results.api.v1.ArtifactService/{method}': {
      post: {
        summary:
          'The artifact protocol of @actions/artifact (Twirp, JSON): CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL, DeleteArtifact; the step reaches it through its job gateway (ACTIONS_RESULTS_URL)',
        security: job,
        parameters: [path('method')],
        responses: {
          '200': json({ type: 'object' }, 'The method’s response'),
          '400': json(twirpError, 'invalid_argument'),
          '403': json(twirpError, 'permission_denied: another build’s or job’s ids'),
          '404': json(twirpError, 'not_found'),
          ...jobErrors,
        },
      },
    },
    '/job/_apis/pushci/artifacts/{build}/{job}/{name}/upload': {
      put: {
        summary:
          'Signed upload URL (Azure block blob): ?comp=block&blockid= stages a block, ?comp=blocklist joins them',
        security: job,
        parameters: [path('build'), path('job'), path('name')],
        responses: {
          '201': { description: 'Staged, or joined' },
          '403': error('Not signed for this job and artifact, or expired'),
          '413': error('Past PUSHCI_ARTIFACT_MAX_BYTES'),
          ...jobErrors,
        },
      },
    },
    '/job/_apis/pushci/artifacts/{build}/{job}/{name}/download': {
      get: {
        summary: 'Signed download URL of an artifact of the job’s build',
        security: job,
        parameters: [path('build'), path('job'), path('name')],
        responses: {
          '200': { description: 'The bytes (application/zip, or the file)' },
          '403': error('Not signed for this job and artifact, or expired'),
          '404': error('No such artifact'),
          ...jobErrors,
        },
      },
    },
    '/job/artifacts': {
      get: {
        summary: 'The artifacts of the job’s build',
        security: job,
        responses: { '200': json({ type: 'object' }, 'Artifacts'), ...jobErrors },
      },
    },
    '/job/artifacts/{name}': {
      get: {
        summary: 'Download an artifact of the job’s build',
        security: job,
        parameters: [path('name')],
        responses: { '200': gzip('The artifact'), '404': error('None of that name'), ...jobErrors },
      },
      put: {
        summary: 'Upload an artifact of the job’s build (.tar.gz body)',
        security: job,
        parameters: [path('name')],
        responses: {
          '201': json(ref('Artifact'), 'Stored'),
          '409': error('Another job of the build uploaded that name'),
          '413': error('Past PUSHCI_ARTIFACT_MAX_BYTES'),
          ...jobErrors,
        },
      },
    },
  };
}
