import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const ENV = { PUSHCI_SECRET_DEPLOY: 'x', PUSHCI_VAR_REGION: 'eu', SERVER_NAME: 'ci' };
const load = (text: string) => loadPipelineSource('w.yml', Buffer.from(text), ENV);
const problems = (text: string) => load(text).diagnostics.map(formatDiagnostic);

const HEAD = 'repository: octo-org/web\non: push\n';

describe('expressions at validate time', () => {
  it('accepts what real workflows write', () => {
    const r = load(`name: CI build
${HEAD}permissions:
  contents: read
defaults:
  run:
    shell: bash
env:
  EMPTY:
  REGION: \${{ vars.REGION }}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions: read-all
    environment: production
    timeout-minutes: 10
    if: github.event_name == 'push' && !contains(github.event.head_commit.message, '[skip tests]')
    steps:
      - id: version
        run: echo "v=\${{ github.sha }}" && echo "\${{ env.REGION }}"
      - name: Deploy \${{ github.ref_name }}
        if: \${{ success() && steps.version.outcome == 'success' && startsWith(github.ref, 'refs/tags/') }}
        continue-on-error: \${{ github.ref_name != 'main' }}
        timeout-minutes: \${{ github.ref_name == 'main' && 5 || 1 }}
        env:
          TOKEN: \${{ secrets.DEPLOY }}
          KEY: \${{ hashFiles('**/package-lock.json') }}
        run: npm test -- \${{ env.SERVER_NAME }}
  notify:
    needs: build
    if: always() && needs.build.result == 'failure'
    steps:
      - run: echo '\${{ needs.build.result }}'
`);
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
    const p = r.pipeline!;
    assert.equal(p.name, 'w');
    assert.equal(p.title, 'CI build');
    assert.equal(p.env.EMPTY, '');
    const [build, notify] = p.jobs;
    assert.equal(build!.if, 'success');
    assert.match(build!.condition ?? '', /github.event_name/);
    assert.equal(notify!.if, 'always');
    assert.equal(build!.steps[0]!.script, 'echo "v=${PUSHCI_EXPR_1}" && echo "${PUSHCI_EXPR_2}"');
    assert.deepEqual(
      build!.steps[0]!.expressions!.map((e) => e.source.trim()),
      ['github.sha', 'env.REGION'],
    );
    assert.equal(build!.steps[1]!.continueOnError, "${{ github.ref_name != 'main' }}");
    assert.equal(build!.steps[1]!.shell, 'bash --noprofile --norc -eo pipefail {0}');
  });

  it('reports every expression problem at its file:line:col', () => {
    const got = problems(`${HEAD}jobs:
  a:
    if: \${{ github.ref }} == 'x'
    steps:
      - run: echo \${{ nope.x }}
      - run: echo \${{ contain('a', 'b') }}
      - if: steps.later.outcome == 'success'
        run: echo \${{ github.ref ==  }}
      - id: later
        shell: python
        run: print("\${{ github.sha }}")
      - run: echo \${{ success() }}
      - env:
          X: \${{ secrets.MISSING }}
          Y: \${{ vars.MISSING }}
        run: |
          cat <<'EOF'
          \${{ github.sha }}
          EOF
  b:
    if: needs.a.result == 'success'
    name: \${{ github.token }}
    steps:
      - run: echo \${{ github.nosuch }}
`);
    assert.deepEqual(got, [
      'w.yml:5:9: if: mixes ${{ }} with other text, which makes a non-empty string that is always true; put the whole condition inside one ${{ }} or leave ${{ }} out',
      'w.yml:7:23: unknown context "nope"; a step\'s run can use github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs',
      'w.yml:8:23: unknown function "contain()"; the functions are contains, startsWith, endsWith, format, join, toJSON, fromJSON, hashFiles, success, failure, cancelled, always',
      'w.yml:9:13: steps.later: no step before this one has id: later',
      'w.yml:10:38: bad expression: expected a value, found the end of the expression',
      'w.yml:13:21: ${{ }} in a python script cannot be passed as data; set the value in env: and read it from the environment',
      "w.yml:14:23: success() can only be used in if: conditions, not in a step's run",
      "w.yml:16:18: ${{ secrets.MISSING }} is not defined: set PUSHCI_SECRET_MISSING in the server's environment",
      "w.yml:17:18: ${{ vars.MISSING }} is not defined: set PUSHCI_VAR_MISSING in the server's environment",
      "w.yml:20:11: ${{ }} inside a quoted heredoc (<<'EOF') is never expanded; use an unquoted delimiter (<<EOF) or pass the value through env:",
      'w.yml:23:9: needs.a: job "a" is not in the needs of "b"; add it to needs:',
      'w.yml:24:15: github.token: pushci has no per-job GitHub token; give one to the pipeline as ${{ secrets.NAME }}',
      'w.yml:26:23: github.nosuch is not something pushci provides (it has: action, actor, base_ref, event, event_name, head_ref, job, ref, ref_name, ref_type, repository, repository_owner, run_attempt, run_id, run_number, server_url, sha, triggering_actor, workflow, workspace)',
    ]);
  });

  it('gives one message for each thing that cannot run here', () => {
    const got = problems(`${HEAD}jobs:
  reuse:
    uses: octo-org/shared/.github/workflows/ci.yml@main
    with:
      x: 1
  box:
    container: node:20
    services:
      redis:
        image: redis
    steps:
      - uses: docker://alpine:3
      - run: make
`);
    assert.deepEqual(got, [
      'w.yml:5:5: not supported: reusable workflows (jobs.<id>.uses); copy the called workflow’s jobs into this file',
      'w.yml:9:5: not supported: container: jobs run in pushci’s sandbox on the worker, not in a container image',
      'w.yml:12:9: not supported: image: services need a container engine (service "redis"); run it as a process with run:, e.g. run: redis-server --port $PORT',
      'w.yml:14:15: uses: docker actions need a container engine, which pushci does not have configured',
    ]);
  });
});
