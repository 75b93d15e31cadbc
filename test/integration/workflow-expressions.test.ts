import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import type { BuildView } from '../../src/model.ts';

const SECRET = 'expr-secret';

/** Every one of these would run `touch` if it were spliced into the script the way GitHub does. */
const HOSTILE_MESSAGE = [
  'fix: $(touch pwned-subst)',
  '`touch pwned-backtick`',
  '"; touch pwned-dquote; echo "',
  "'; touch pwned-squote; echo '",
  '${IFS}$(touch${IFS}pwned-ifs)',
].join('\n');
/** Git allows all of these characters in a branch name. */
const HOSTILE_BRANCH = "x$(touch${IFS}pwned-branch)`touch${IFS}pwned-tick`';touch${IFS}pwned-semi";

const PIPELINE = (repo: string) => `name: expr
repository: octo-org/expr
clone-url: ${repo}
on: push
env:
  GREETING: hello
jobs:
  demo:
    env:
      WHERE: \${{ github.ref_name }}
    steps:
      - id: show
        run: |
          printf 'msg=[%s]\\n' "\${{ github.event.head_commit.message }}"
          printf 'ref=[%s]\\n' '\${{ github.ref_name }}'
          printf 'args=' ; printf '<%s>' \${{ github.ref_name }} --flag ; echo
          cat <<EOF
          heredoc=[\${{ github.ref_name }}]
          EOF
          echo "greeting=\${{ env.GREETING }} where-matches=\${{ env.WHERE == github.ref_name }}"
      - name: tolerated on \${{ github.event_name }}
        continue-on-error: \${{ github.event_name == 'push' }}
        run: exit 4
      - id: broken
        run: exit 5
      - if: always()
        run: echo "outcome=\${{ steps.broken.outcome }} show=\${{ steps.show.conclusion }} job=\${{ job.status }}"
      - run: echo should-not-run
      - if: failure() && steps.broken.outcome == 'failure'
        run: echo failure-handler
      - if: \${{ always() }}
        run: echo "pwned files=$(ls | grep -c pwned || true)"
  gated:
    if: github.ref_name == 'never-this'
    steps:
      - run: echo gated-ran
  after:
    needs: [demo]
    if: always() && needs.demo.result == 'failure'
    steps:
      - run: echo "needs said \${{ needs.demo.result }}"
`;

describe('${{ }} expressions in a real build', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n' }],
    pipelines: (repo) => ({ 'expr.yml': PIPELINE(repo.dir) }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  const build = async (ref: string, message: string) => {
    const sha = s.repo.commits[0]!;
    const res = await sendGithub(
      s.server.base,
      githubPush({ ref, before: sha, after: sha, repo: 'octo-org/expr', message }),
      SECRET,
    );
    assert.equal(res.status, 202, res.text);
    const id = res.json.builds[0].id as string;
    return waitFor(
      async () => {
        const b = (await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView;
        return ['success', 'failure', 'error', 'canceled'].includes(b.status) ? b : null;
      },
      60_000,
      `build ${id}`,
    );
  };
  const log = async (id: string, job: string) =>
    (await s.server.api(`/api/builds/${id}/jobs/${job}/log`)).text();
  const output = (text: string) =>
    text
      .split('\n')
      .filter((l) => / {3}/.test(l.slice(24, 27)))
      .map((l) => l.slice(27));

  it('hostile commit messages and branch names reach scripts as data, never as code', async () => {
    const b = await build(`refs/heads/${HOSTILE_BRANCH}`, HOSTILE_MESSAGE);
    const text = await log(b.id, 'demo');
    const out = output(text);
    // Quoted: the exact value, each line of it.
    const msgLines = HOSTILE_MESSAGE.split('\n');
    assert.equal(out[0], `msg=[${msgLines[0]}`);
    for (let i = 1; i < msgLines.length - 1; i++) assert.equal(out[i], msgLines[i]);
    assert.equal(out[msgLines.length - 1], `${msgLines.at(-1)}]`);
    assert.ok(out.includes(`ref=[${HOSTILE_BRANCH}]`), text);
    // Unquoted: one word (it has no spaces), never run.
    assert.ok(out.includes(`args=<${HOSTILE_BRANCH}><--flag>`), text);
    assert.ok(out.includes(`heredoc=[${HOSTILE_BRANCH}]`), text);
    assert.ok(out.includes('pwned files=0'), text);
    // A step without name: is shown by its first line as written, not with the value in it.
    assert.match(text, /▶ printf 'msg=\[%s\]\\n' "\$\{\{ github\.event\.head_commit\.message \}\}"/);
  });

  it('step if:, continue-on-error and job if: follow GitHub', async () => {
    const b = await build('refs/heads/main', 'ordinary');
    assert.equal(b.status, 'failure');
    const jobs = Object.fromEntries(b.jobs.map((j) => [j.name, j.status]));
    assert.deepEqual(jobs, { demo: 'failure', gated: 'skipped', after: 'success' });
    assert.match(b.jobs.find((j) => j.name === 'gated')!.reason ?? '', /if: is false/);
    assert.match(b.jobs.find((j) => j.name === 'demo')!.reason ?? '', /step "broken|exit 5/);
    const text = await log(b.id, 'demo');
    const out = output(text);
    assert.ok(out.includes('greeting=hello where-matches=true'), text);
    assert.match(text, /▶ tolerated on push/);
    assert.match(text, /continue-on-error is set; going on/);
    assert.ok(out.includes('outcome=failure show=success job=failure'), text);
    assert.ok(!out.includes('should-not-run'), text);
    assert.match(text, /step "echo should-not-run" skipped: an earlier step failed/);
    assert.ok(out.includes('failure-handler'), text);
    assert.ok(output(await log(b.id, 'after')).includes('needs said failure'));
    assert.ok(!(await log(b.id, 'gated')).includes('gated-ran'));
  });
});
