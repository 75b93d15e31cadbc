import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'expr-secret';
const F = "format('{0}{0}{0}{0}{0}{0}{0}{0}', ";
/** `levels` nested eight-fold formats of 'xxx': 3 × 8^levels characters, made in microseconds. */
const big = (levels: number) => `\${{ ${F.repeat(levels)}'xxx'${')'.repeat(levels)} }}`;

const action = (env: string) => `name: lint
runs:
  using: composite
  steps:
    - run: echo "A has \${#A} characters"
      shell: bash
      env:
${env}`;

/*
 * Expressions in an action of the checkout (a `uses: ./…` the pipeline names) are the pusher's, and the
 * worker evaluates them in its own process, web server included. Eight nested eight-fold format() calls
 * made 134 million characters; four such env values took the worker to 2 GB before the kernel refused
 * to start the step (E2BIG); a dozen would have ended the process. The attack runs from a real push
 * against a real server; the control uses format, join and toJSON as actions do.
 */
describe('attack: an action in the checkout makes huge texts in the worker (real sandbox)', () => {
  const s = suiteServer({
    history: [
      {
        'big/action.yml': action(`        A: "${big(7)}"\n        B: "${big(7)}"\n`),
        // Each value under the 1 MiB limit (786,432 characters), three of them over what a process gets.
        'wide/action.yml': action(['A', 'B', 'C'].map((k) => `        ${k}: "${big(6)}"`).join('\n') + '\n'),
        'fine/action.yml': `name: fine
runs:
  using: composite
  steps:
    - run: echo "CONTROL $X $Y $Z \${#W}"
      shell: bash
      env:
        X: \${{ format('{0}-{1}', 'a', 'b') }}
        Y: \${{ join(fromJSON('["x","y"]'), '+') }}
        Z: \${{ toJSON(fromJSON('"q"')) }}
        W: "${big(5)}"
`,
      },
    ],
    pipelines: (repo) => ({
      'expr.yml': `${pipelineHead('expr', repo.dir)}jobs:
  big:
    steps:
      - uses: ./big
  wide:
    steps:
      - uses: ./wide
  control:
    steps:
      - uses: ./fine
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  it('refuses a text over 1 MiB and an environment over 2 MiB, with the reason; ordinary use still works', async () => {
    const b = await pushAndWait(s.server, {
      name: 'expr',
      sha: s.repo.commits[0]!,
      secret: SECRET,
      timeoutMs: 120_000,
    });
    const log = (job: string) => jobLog(s.server, b.id, job);
    const big = await log('big');
    assert.match(big, /expression error: format: the result would be longer than 1048576 characters/, big);
    assert.doesNotMatch(big, /E2BIG|A has \d/, big);
    const wide = await log('wide');
    assert.match(wide, /holds \d+ characters, more than a process can be started with \(2097152\)/, wide);
    assert.doesNotMatch(wide, /E2BIG|A has \d/, wide);
    for (const j of ['big', 'wide']) assert.notEqual(b.jobs.find((x) => x.name === j)!.status, 'success');
    const control = await log('control');
    assert.equal(b.jobs.find((x) => x.name === 'control')!.status, 'success', control);
    assert.match(control, /CONTROL a-b x\+y "q" 98304/, control);
  });
});
