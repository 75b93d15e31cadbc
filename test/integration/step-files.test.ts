import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { spawnPushci } from '../helpers/process.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'files-secret';

describe('GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY and workflow commands', () => {
  // A file on the worker a step must not be able to read through its command files.
  const hostDir = mkdtempSync(join(tmpdir(), 'pushci-host-only-'));
  const hostFile = join(hostDir, 'private');
  writeFileSync(hostFile, 'stolen=worker-private-content\n');

  const s = suiteServer({
    history: [{ 'a.txt': 'a\n' }],
    pipelines: (repo) => {
      const head = (name: string) => pipelineHead(name, repo.dir);
      return {
        'files.yml': `${head('files')}jobs:
  produce:
    outputs:
      version: \${{ steps.v.outputs.version }}
      notes: \${{ steps.v.outputs.notes }}
      leaked: \${{ steps.v.outputs.token }}
    steps:
      - id: v
        env:
          TOKEN: \${{ secrets.DEPLOY }}
        run: |
          echo "version=1.2.3" >> "$GITHUB_OUTPUT"
          { echo "notes<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$GITHUB_OUTPUT"
          echo "token=$TOKEN" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV=set by step one" >> "$GITHUB_ENV"
          echo "PUSHCI_EXPR_1=nope" >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool"
          chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "## Results" >> "$GITHUB_STEP_SUMMARY"
          echo "all **green**" >> "$GITHUB_STEP_SUMMARY"
          echo "::add-mask::dynamic-value-42"
          echo "then dynamic-value-42 is hidden"
          echo "::error file=src/a.ts,line=3,col=5,title=Type error::bad thing"
          echo "::warning::careful"
          echo "::debug::debug-line-$((40+2))"
          echo "::stop-commands::tok123"
          echo "::error::not an annotation"
          echo "::debug::kept-while-stopped-$((40+2))"
          echo "::tok123::"
          echo "::notice::after resume"
      - run: |
          echo "env=$FROM_ENV out=\${{ steps.v.outputs.version }} expr-var=\${PUSHCI_EXPR_1:-unset}"
          mytool
          echo "gh=$GITHUB_REF_NAME $GITHUB_JOB $GITHUB_ACTION $RUNNER_OS $GITHUB_EVENT_NAME"
          test "$GITHUB_WORKSPACE" = "$PWD" && echo workspace-ok
  consume:
    needs: produce
    steps:
      - run: |
          echo "got \${{ needs.produce.outputs.version }} [\${{ needs.produce.outputs.leaked }}]"
          echo "\${{ needs.produce.outputs.notes }}"
`,
        'attack.yml': `${head('attack')}jobs:
  steal:
    outputs:
      stolen: \${{ steps.s.outputs.stolen }}
      viadir: \${{ steps.d.outputs.stolen }}
    steps:
      - id: s
        run: ln -sf ${hostFile} "$GITHUB_OUTPUT"
      - id: d
        run: |
          dir=$(dirname "$GITHUB_OUTPUT")
          rm -rf "$dir" && ln -s ${hostDir} "$dir"
      - id: control
        run: echo "fine=yes" >> "$GITHUB_OUTPUT"
      - run: echo "control=\${{ steps.control.outputs.fine }}"
`,
        'leak.yml': `${head('leak')}jobs:
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
  straddle:
    steps:
      # Attack: the secret across the 64 KiB cut of a long line, whole in one write, then in two
      # writes a second apart (its tail arriving after the cut would have been made).
      - env:
          TOKEN: \${{ secrets.DEPLOY }}
        run: |
          head -c $((65536 - 8)) /dev/zero | tr '\\0' x; printf '%s\\n' "$TOKEN"
          head -c $((65536 - 6)) /dev/zero | tr '\\0' y; printf '%s' "\${TOKEN:0:8}"; sleep 1; printf '%s\\n' "\${TOKEN:8}"
          echo "control-$((40+2))"
      # Attack: a colour escape inside the secret (grep --color), in the log and in the summary.
      - env:
          TOKEN: \${{ secrets.DEPLOY }}
        run: |
          echo "$TOKEN" | grep --color=always key
          echo "$TOKEN" | grep --color=always key >> "$GITHUB_STEP_SUMMARY"
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_SECRET_DEPLOY: 'deploy-key-secret-value' },
  });

  const build = (name: string) =>
    pushAndWait(s.server, { name, sha: s.repo.commits[0]!, secret: SECRET, timeoutMs: 60_000 });
  const log = (id: string, job: string) => jobLog(s.server, id, job);

  it('passes outputs, env and path along; masks, annotates and summarizes', async () => {
    const b = await build('files');
    assert.equal(b.status, 'success', JSON.stringify(b.jobs));
    const produce = b.jobs.find((j) => j.name === 'produce')!;
    // The output holding a secret is left out, as on GitHub.
    assert.deepEqual(produce.outputs, { version: '1.2.3', notes: 'line one\nline two' });
    assert.deepEqual(
      produce.annotations.map((a) => [a.level, a.message, a.file, a.line, a.col, a.title]),
      [
        ['error', 'bad thing', 'src/a.ts', 3, 5, 'Type error'],
        ['warning', 'careful', null, null, null, null],
        ['notice', 'after resume', null, null, null, null],
      ],
    );
    assert.equal(produce.summary, '## Results\nall **green**\n');
    const text = await log(b.id, 'produce');
    assert.match(text, /then \*{8} is hidden/);
    // ::debug:: lines stay out of the log without ACTIONS_STEP_DEBUG (as on GitHub), but not while
    // commands are stopped: then they are ordinary output.
    assert.doesNotMatch(text, /debug-line-42/);
    assert.match(text, /::debug::kept-while-stopped-42/);
    assert.ok(!text.includes('dynamic-value-42'), text);
    assert.ok(!text.includes('deploy-key-secret-value'));
    assert.match(text, /PUSHCI_EXPR_1 cannot be set this way/);
    // $GITHUB_ENV could not replace the variable that carries the ${{ }} value.
    assert.match(text, /env=set by step one out=1\.2\.3 expr-var=1\.2\.3/);
    assert.match(text, /tool-ran/);
    assert.match(text, /gh=main produce __run_2 Linux push/);
    assert.match(text, /workspace-ok/);
    const consume = await log(b.id, 'consume');
    assert.match(consume, /got 1\.2\.3 \[\]/);
    assert.match(consume, /line one\n.*line two/);

    // The CLI shows a job's annotations and summary under its log, as the build page does.
    const cli = spawnPushci(['logs', b.id, '--job', 'produce'], {
      PUSHCI_URL: s.server.base,
      PUSHCI_API_TOKEN: s.server.token,
    });
    const stdout: string[] = [];
    cli.proc.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
    assert.equal(await cli.exited, 0, cli.output.join(''));
    // Headers on stderr (as each job's), the annotations and the summary on stdout after the log.
    assert.match(cli.output.join(''), /── produce: 3 annotation\(s\) ──[\s\S]*── produce: summary ──/);
    const printed = stdout.join('');
    assert.match(
      printed,
      /\nerror src\/a\.ts:3:5: Type error: bad thing \(step ".+"\)\nwarning: careful \(step ".+"\)\nnotice: after resume \(step ".+"\)\n## Results\nall \*\*green\*\*\n$/,
    );
    // The control: a job with neither prints no such sections.
    const plain = spawnPushci(['logs', b.id, '--job', 'consume'], {
      PUSHCI_URL: s.server.base,
      PUSHCI_API_TOKEN: s.server.token,
    });
    assert.equal(await plain.exited, 0);
    assert.doesNotMatch(plain.output.join(''), /annotation\(s\)|: summary ──/);
  });

  it('a step cannot read the worker’s files through symlinked command files', async () => {
    const b = await build('attack');
    assert.equal(b.status, 'success');
    const steal = b.jobs.find((j) => j.name === 'steal')!;
    assert.deepEqual(steal.outputs, { stolen: '', viadir: '' });
    const text = await log(b.id, 'steal');
    assert.ok(!text.includes('worker-private-content'));
    assert.match(text, /\$GITHUB_OUTPUT of step "ln -sf .*": it is a symlink, which is not followed/);
    assert.match(text, /\$GITHUB_OUTPUT of step "dir=.*": its folder was replaced/);
    // Control: an ordinary output in the same job works.
    assert.match(text, /control=yes/);
  });

  it('masks a secret in every field of an annotation and in the job’s reason; ordinary fields stay (control)', async () => {
    const b = await build('leak');
    const text = await (await s.server.api(`/api/builds/${b.id}`)).text();
    assert.ok(!text.includes('deploy-key-secret-value'), text);
    assert.deepEqual(
      b.jobs.find((j) => j.name === 'leak')!.annotations.map((a) => [a.level, a.file, a.title, a.message]),
      [
        ['error', '********', 't-********', 'm-********'],
        ['warning', 'src/a.ts', 'plain', 'control'],
      ],
    );
    assert.match(b.jobs.find((j) => j.name === 'named')!.reason ?? '', /step "deploy with \*+" failed/);
    const straddle = await (await s.server.api(`/api/builds/${b.id}/jobs/straddle/log`)).text();
    assert.match(straddle, /control-42/, 'the step ran to its end');
    assert.equal(straddle.match(/\*{8}/g)?.length, 3, 'the three secrets masked whole');
    const plain = (t: string) => t.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    for (const piece of ['deploy-k', 'ey-secret-value', 'deploy-key', 'secret-value'])
      assert.ok(!plain(straddle).includes(piece), `no part of the secret (${piece}) in the log`);
    const summary = b.jobs.find((j) => j.name === 'straddle')!.summary ?? '';
    assert.match(summary, /\*{8}/, 'the summary has the masked secret');
    assert.ok(!plain(summary).includes('secret-value'), summary);
  });
});
