import { EVENT_KINDS } from '../core/event.ts';
import { BUILD_STATUSES } from '../model.ts';
import {
  approveHandler,
  cancelHandler,
  rerunFailedHandler,
  rerunHandler,
  triggerHandler,
} from './actions.ts';
import { getBuild, getJobLog } from './api.ts';
import type { ApiRoute } from './api-surface.ts';
import { downloadArtifact, listArtifacts } from './artifacts.ts';
import { buildEvents, getPipeline, listBuilds, listPipelines } from './builds-list.ts';
import { anyObject, body, error, errors, gzip, json, object, query, ref } from './openapi/parts.ts';

const str = { type: 'string' };
const created = json(ref('WebhookAccepted'), 'Created');

/** The builds, their logs and artifacts, and what the API does to them, in the order Koa matches them. */
export const BUILD_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/builds',
    handler: ({ deps }) => listBuilds(deps),
    doc: {
      summary: 'Builds, newest first, filtered, with cursor pagination',
      parameters: [
        query('pipeline', { type: 'string', description: "A pipeline's id or its file" }),
        query('repository'),
        query('branch'),
        query('event', { type: 'string', enum: [...EVENT_KINDS] }),
        query('status', { type: 'string', enum: [...BUILD_STATUSES] }),
        query('limit'),
        query('cursor'),
      ],
      responses: {
        '200': json(
          object({ builds: { type: 'array', items: ref('Build') }, next: { type: ['string', 'null'] } }, [
            'builds',
            'next',
          ]),
          'A page of builds',
        ),
        ...errors(400),
      },
    },
  },
  {
    method: 'get',
    path: '/pipelines',
    handler: ({ deps }) => listPipelines(deps),
    doc: {
      summary:
        'The pipelines in force (a broken file at its last good version), every file with its state and problems',
      responses: { '200': anyObject('Pipelines') },
    },
  },
  {
    method: 'get',
    path: '/pipelines/:name',
    handler: ({ deps }) => getPipeline(deps),
    doc: {
      summary: 'One pipeline in force, by its id or its file (`pipelines/web.yml`, `web.yml`), as listed',
      responses: { '200': anyObject('Pipeline'), ...errors(404) },
    },
  },
  {
    method: 'get',
    path: '/events',
    handler: ({ deps }) => buildEvents(deps),
    doc: {
      summary:
        'Server-Sent Events: every build change (event "build", data {type, id, pipeline, number, status, job?})',
      responses: { '200': body('text/event-stream', 'An event stream') },
    },
  },
  {
    method: 'get',
    path: '/builds/:id',
    handler: ({ deps }) => getBuild(deps),
    doc: { summary: 'One build', responses: { '200': json(ref('Build'), 'The build'), ...errors(404) } },
  },
  {
    method: 'get',
    path: '/builds/:id/jobs/:job/log',
    handler: ({ deps }) => getJobLog(deps),
    doc: {
      summary: 'A job log as text; ?follow=1 streams until the job ends',
      parameters: [query('follow', { type: 'string', enum: ['1', 'true'] })],
      responses: { '200': body('text/plain', 'Log lines'), ...errors(404) },
    },
  },
  {
    method: 'get',
    path: '/builds/:id/artifacts',
    handler: ({ artifacts }) => listArtifacts(artifacts),
    doc: {
      summary: 'The build’s artifacts',
      responses: {
        '200': json(object({ artifacts: { type: 'array', items: ref('Artifact') } }), 'Artifacts'),
        '404': error('No such build'),
      },
    },
  },
  {
    method: 'get',
    path: '/builds/:id/artifacts/:name',
    handler: ({ artifacts }) => downloadArtifact(artifacts),
    doc: {
      summary: 'Download an artifact as uploaded (.tar.gz, .zip, or the single file)',
      responses: { '200': gzip('The artifact'), '404': error('No such artifact (or expired)') },
    },
  },
  {
    method: 'post',
    path: '/builds/:id/cancel',
    handler: ({ deps }) => cancelHandler(deps),
    doc: { summary: 'Cancel a build', responses: { '202': anyObject('Cancelling'), ...errors(404, 409) } },
  },
  {
    method: 'post',
    path: '/builds/:id/approve',
    handler: ({ deps }) => approveHandler(deps),
    doc: {
      summary:
        'Let a pull request from a fork run (its build waits as pending-approval); records who and when. It still gets no secrets. 409 unless the build is pending-approval.',
      requestBody: json(
        object({ by: { type: 'string', description: 'Who approves (default "api").' } }),
        'Who approves',
      ),
      responses: {
        '202': json(
          object({ id: str, status: str, approval: object({ by: str, at: str }) }),
          'Approved: the build is queued',
        ),
        ...errors(400, 404, 409),
      },
    },
  },
  {
    method: 'post',
    path: '/builds/:id/rerun',
    handler: ({ deps }) => rerunHandler(deps),
    doc: { summary: 'A new build of the same commit', responses: { '202': created, ...errors(404, 409) } },
  },
  {
    method: 'post',
    path: '/builds/:id/rerun-failed',
    handler: ({ deps }) => rerunFailedHandler(deps),
    doc: {
      summary:
        'Re-run the failed jobs: a new build of the same commit and pipeline version where the failed, errored and canceled jobs and those that need them run again, and the others keep their results, outputs and logs (409 when nothing failed or the build is not finished)',
      responses: { '202': created, ...errors(404, 409) },
    },
  },
  {
    method: 'post',
    path: '/pipelines/:name/trigger',
    handler: ({ deps }) => triggerHandler(deps),
    doc: {
      summary:
        'A manual build. :name is the pipeline’s id, or its file (path, name or stem) when only one fits; the 404 lists the pipelines (`pipelines: [{name, file}]`)',
      requestBody: json(
        object({
          branch: str,
          tag: str,
          sha: str,
          repository: str,
          by: str,
          inputs: {
            type: 'object',
            additionalProperties: { type: ['string', 'number', 'boolean'] },
            description:
              'Values for the pipeline’s on.workflow_dispatch.inputs; checked by type, every problem in one 400',
          },
        }),
        'Exactly one of branch and tag',
      ),
      responses: { '202': created, ...errors(400, 404) },
    },
  },
];
