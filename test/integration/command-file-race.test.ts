import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'race-secret';
const STEPS = 40;

/**
 * A service of the job (it outlives each step) that keeps swapping the newest step's command-file
 * folder in /tmp for a symlink to `target` and back, with rename(2) in a tight loop: pushci reads the
 * folder's files after the step, between its checks and its opens. It counts the swaps it made after
 * the step had ended (the step leaves `<its folder>.done` last) and before pushci took the folder away,
 * the window the attack is about, in /tmp/_race_window as `<swaps> <steps whose window it swapped in>`.
 */
const swapper = (target: string) =>
  [
    `perl -e 'my $t = shift; my ($w, $n) = (0, 0); while (1) {`,
    'my @d = sort { $b->[1] <=> $a->[1] } map { /_pushci_step_(\\d+)\\w*$/ ? [$_, $1] : () }',
    'grep { -d $_ && ! -l $_ } glob("/tmp/_pushci_step_*");',
    'unless (@d) { select(undef, undef, undef, 0.002); next } my $d = $d[0][0]; symlink($t, "$d.l"); my $in = 0;',
    'for (1 .. 20000) { rename($d, "$d.r") or last; rename("$d.l", $d); $in++ if -e "$d.done";',
    'rename($d, "$d.l"); rename("$d.r", $d) }',
    'if ($in) { $w += $in; $n++; open(my $f, ">", "/tmp/_race_window.n") or die; print $f "$w $n"; close $f;',
    'rename("/tmp/_race_window.n", "/tmp/_race_window") }',
    `}' ${target}`,
  ].join(' ');

describe('command files against a process of the job that swaps their folder', () => {
  // Server-side files a job must neither read nor touch through its command files.
  const hostDir = mkdtempSync(join(tmpdir(), 'pushci-host-only-'));
  writeFileSync(join(hostDir, 'env'), 'STOLEN=worker-private-content\n');
  writeFileSync(join(hostDir, 'output'), 'stolen=worker-private-content\n');
  const victimDir = mkdtempSync(join(tmpdir(), 'pushci-host-victim-'));
  // A server folder holding a file by the name the checkout's hashFiles() pattern asks for.
  const lockDir = mkdtempSync(join(tmpdir(), 'pushci-host-lock-'));
  writeFileSync(join(lockDir, 'x.lock'), 'server-only lock content\n');
  for (const f of ['env', 'output', 'path', 'state', 'summary.md'])
    writeFileSync(join(victimDir, f), 'precious server data\n');

  const s = suiteServer({
    history: [{ 'a.txt': 'a\n', 'sub/x.lock': 'checkout lock\n' }],
    pipelines: (repo) => {
      const head = (name: string) => pipelineHead(name, repo.dir);
      const steps = Array.from(
        { length: STEPS },
        (_, i) =>
          `      - id: s${i}\n        run: |\n          echo "got=\${STOLEN:-none} out=${i === 0 ? '' : `\${{ steps.s${i - 1}.outputs.stolen }}`}"\n          touch "$(dirname "$GITHUB_OUTPUT").done"\n`,
      ).join('');
      return {
        'race.yml': `${head('race')}jobs:
  race:
    services:
      swap:
        run: |
          ${swapper(hostDir)}
        ready: 'true'
    steps:
${steps}      - run: echo "window=$(cat /tmp/_race_window 2>/dev/null || echo '0 0')."
`,
        'hash.yml': `${head('hash')}jobs:
  hash:
    services:
      swap:
        run: |
          perl -e 'symlink(shift, "sub.l"); while (1) { rename("sub", "sub.r"); rename("sub.l", "sub"); select(undef, undef, undef, 0.0002); rename("sub", "sub.l"); rename("sub.r", "sub"); select(undef, undef, undef, 0.0002) }' ${lockDir}
        ready: 'true'
    steps:
${Array.from({ length: STEPS }, () => `      - run: echo "h=\${{ hashFiles('sub/x.lock') }}"\n        if: always()\n`).join('')}`,
        'plant.yml': `${head('plant')}jobs:
  plant:
    steps:
      - run: for i in $(seq 0 20); do ln -s ${victimDir} /tmp/_pushci_step_$i 2>/dev/null || true; done
      - run: echo "GOOD=yes" >> "$GITHUB_ENV"
      - run: echo "control=$GOOD"
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  const build = (name: string) =>
    pushAndWait(s.server, { name, sha: s.repo.commits[0]!, secret: SECRET, timeoutMs: 120_000 });

  it('reads none of the server’s files while a service swaps the folder for a symlink', async () => {
    const b = await build('race');
    const text = await jobLog(s.server, b.id, 'race');
    assert.ok(!text.includes('worker-private-content'), text);
    assert.equal(b.jobs[0]!.outputs?.stolen ?? '', '');
    // Every step ran with the swapper going (the attack had its chances), and the swaps were seen.
    assert.equal(text.match(/ got=none /g)?.length, STEPS, text);
    const seen = text.match(/its folder was replaced/g)?.length ?? 0;
    // The swapper swapped the folder after steps had ended, while pushci was about to read it: the
    // attack really ran in its window (a swapper that never found the folder would leave 0 0).
    const window = /window=(\d+) (\d+)\./.exec(text);
    assert.ok(window, text);
    const [swaps, steps] = [Number(window[1]), Number(window[2])];
    console.log(
      `command files: ${STEPS} steps, ${swaps} swaps in the window after ${steps} of them, the folder found swapped for a symlink ${seen} times`,
    );
    assert.ok(swaps > 0 && steps > 0, `the swapper never swapped a folder in its window: ${window[0]}`);
  });

  it('hashFiles() hashes no server file while a service swaps a checkout folder for a symlink', async () => {
    const b = await build('hash');
    const text = await jobLog(s.server, b.id, 'hash');
    const twice = (content: string) =>
      createHash('sha256').update(createHash('sha256').update(content).digest()).digest('hex');
    assert.ok(!text.includes(twice('server-only lock content\n')), text);
    // Control: the checkout's own file hashes as GitHub would, and the swaps did race pushci.
    const own = text.split(twice('checkout lock\n')).length - 1;
    const moved = text.match(/was moved or replaced while it was read|cannot be read/g)?.length ?? 0;
    const none = text.match(/h=\s*$/gm)?.length ?? 0;
    console.log(
      `hashFiles: ${STEPS} steps, own hash ${own} times, nothing matched (sub/ a symlink) ${none} times, refused ${moved} times`,
    );
    assert.ok(own > 0, text);
    // The swapper raced pushci: some hashFiles() met the symlink (and hashed nothing, or refused).
    assert.ok(none + moved > 0, `no hashFiles() ever met the swapped folder:\n${text}`);
  });

  it('creates and truncates nothing on the server through a planted symlink; ordinary files work (control)', async () => {
    const b = await build('plant');
    const text = await jobLog(s.server, b.id, 'plant');
    for (const f of ['env', 'output', 'path', 'state', 'summary.md'])
      assert.equal(readFileSync(join(victimDir, f), 'utf8'), 'precious server data\n', f);
    assert.match(text, /control=yes/);
  });
});
