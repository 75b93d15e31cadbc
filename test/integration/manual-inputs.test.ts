import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnded } from '../helpers/push-build.ts';
import { spawnPushci } from '../helpers/process.ts';
import { suiteServer } from '../helpers/suite-server.ts';

describe('manual builds with inputs', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }],
    pipelines: (repo) => ({
      'deploy.yml': `
name: deploy
repository: octo-org/app
clone-url: ${repo.dir}
on:
  workflow_dispatch:
    inputs:
      environment:
        type: choice
        options: [staging, production]
        required: true
      dry-run:
        type: boolean
        default: true
      replicas:
        type: number
        default: 2
      note:
        description: Free text
jobs:
  deploy:
    steps:
      - name: show
        run: |
          echo "OUT [$INPUT_ENVIRONMENT] [$INPUT_DRY_RUN] [$INPUT_REPLICAS] [$INPUT_NOTE] [$CI_PIPELINE_EVENT]"
      # The inputs context has GitHub's types (github.event.inputs keeps the text).
      - name: typed
        run: |
          echo "TYPED not-dry=\${{ !inputs.dry-run }} more=\${{ inputs.replicas > 10 }} event=\${{ github.event.inputs.dry-run == 'false' }}"
          echo "JSON \${{ toJSON(inputs) }}" | tr -d '\\n '
          echo
      - name: publish
        if: \${{ !inputs.dry-run }}
        run: echo "PUBLISH ran"
      - name: dry
        if: inputs.dry-run
        run: echo "DRY ran"
`,
    }),
  });

  const trigger = (body: unknown) =>
    s.server.api('/api/pipelines/deploy/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const final = (id: string) => buildEnded(s.server, id, 30_000);
  const out = async (id: string) => {
    const log = await (await s.server.api(`/api/builds/${id}/jobs/deploy/log`)).text();
    const line = log.split('\n').find((l) => l.includes('OUT ['))!;
    return line.slice(line.indexOf('OUT [') + 4);
  };

  it('validates inputs and gives them to steps as values, defaults filled in', async () => {
    const note = 'it\'s "$(id)" `whoami` ; rm -rf /';
    const r = await trigger({
      branch: 'main',
      inputs: { environment: 'production', 'dry-run': false, note },
    });
    assert.equal(r.status, 202, await r.clone().text());
    const id = ((await r.json()) as { builds: Array<{ id: string }> }).builds[0]!.id;
    const v = await final(id);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.event, 'manual');
    assert.deepEqual(v.inputs, { environment: 'production', 'dry-run': 'false', replicas: '2', note });
    assert.equal(await out(id), `[production] [false] [2] [${note}] [manual]`);
    const log = await (await s.server.api(`/api/builds/${id}/jobs/deploy/log`)).text();
    assert.match(log, /TYPED not-dry=true more=false event=true/);
    assert.match(log, /JSON\{"environment":"production","dry-run":false,"replicas":2,"note":/);
    assert.match(log, /PUBLISH ran/, 'if: !inputs.dry-run with dry-run false');
    assert.doesNotMatch(log, /DRY ran/, 'if: inputs.dry-run with dry-run false');

    // A re-run keeps the inputs.
    const again = await s.server.api(`/api/builds/${id}/rerun`, { method: 'POST' });
    const rerun = ((await again.json()) as { builds: Array<{ id: string }> }).builds[0]!.id;
    const rv = await final(rerun);
    assert.equal(rv.event, 'rerun');
    assert.deepEqual(rv.inputs, v.inputs);
    assert.equal(await out(rerun), `[production] [false] [2] [${note}] [rerun]`);
  });

  it('takes inputs from the CLI, and approves a waiting build from it', async () => {
    const env = { PUSHCI_URL: s.server.base, PUSHCI_API_TOKEN: s.server.token };
    const run = async (args: string[]) => {
      const p = spawnPushci(args, env);
      const code = await p.exited;
      return { code, out: p.output.join('') };
    };
    const r = await run([
      'trigger',
      'deploy',
      '--branch',
      'main',
      '--input',
      'environment=staging',
      '--input',
      'note=a=b',
      '--follow',
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /OUT \[staging\] \[true\] \[2\] \[a=b\] \[manual\]/);
    const bad = await run(['trigger', 'deploy', '--branch', 'main', '--input', 'environment=qa']);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /input "environment" must be one of: staging, production/);
    const notWaiting = await run(['approve', 'nosuchbuild', '--as', 'bob']);
    assert.equal(notWaiting.code, 1);
    assert.match(notWaiting.out, /no build nosuchbuild/);
  });

  it('answers 400 with every problem, and builds nothing', async () => {
    const before = (
      (await (await s.server.api('/api/builds?pipeline=deploy')).json()) as { builds: unknown[] }
    ).builds.length;
    const r = await trigger({
      branch: 'main',
      inputs: { environment: 'qa', replicas: 'many', 'dry-run': 'yes', color: 'red' },
    });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: string; message: string };
    assert.equal(body.error, 'invalid_request');
    assert.equal(
      body.message,
      'input "color" is not one of: environment, dry-run, replicas, note; input "environment" must be one of: staging, production; input "dry-run" must be true or false; input "replicas" must be a number',
    );
    const missing = await trigger({ branch: 'main' });
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { message: string }).message, /input "environment" is required/);
    const after = (
      (await (await s.server.api('/api/builds?pipeline=deploy')).json()) as { builds: unknown[] }
    ).builds.length;
    assert.equal(after, before);
  });
});
