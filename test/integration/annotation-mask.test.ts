import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'mask-secret';
const KEY = 'deploy-key-in-an-annotation-4471';

describe('a secret printed into an annotation’s fields', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n' }],
    pipelines: (repo) => ({
      'leak.yml': `${pipelineHead('leak', repo.dir)}jobs:
  leak:
    steps:
      - name: annotate
        env:
          TOKEN: \${{ secrets.DEPLOY }}
        run: |
          echo "::error file=$TOKEN,line=1,title=t-$TOKEN::m-$TOKEN"
          echo "::warning file=src/a.ts,line=2,title=plain::control"
  named:
    steps:
      - name: deploy with \${{ secrets.DEPLOY }}
        run: exit 3
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_SECRET_DEPLOY: KEY },
  });

  it('leaves the job masked in every field; an ordinary annotation keeps its file (control)', async () => {
    const b = await pushAndWait(s.server, {
      name: 'leak',
      sha: s.repo.commits[0]!,
      secret: SECRET,
      timeoutMs: 60_000,
    });
    const res = await s.server.api(`/api/builds/${b.id}`);
    const text = await res.text();
    assert.ok(!text.includes(KEY), text);
    const annotations = b.jobs.find((j) => j.name === 'leak')!.annotations;
    // Control: the failed step is still named in the job's reason, its secret masked.
    assert.match(b.jobs.find((j) => j.name === 'named')!.reason ?? '', /deploy with \*+/);
    assert.deepEqual(
      annotations.map((a) => [a.level, a.file, a.title, a.message]),
      [
        ['error', '********', 't-********', 'm-********'],
        ['warning', 'src/a.ts', 'plain', 'control'],
      ],
    );
  });
});
