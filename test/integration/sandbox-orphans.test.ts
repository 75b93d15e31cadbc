import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobDirsIn } from '../../src/runner/job-dirs.ts';
import {
  cgroupParents,
  findCgroups,
  jobCgroupName,
  sweepCgroups,
} from '../../src/runner/backends/sandbox/cgroups.ts';
import { withCommandLine } from '../helpers/processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the fixture worker (see dies-before-go-worker.ts) once; returns how it ended and what it left. */
async function runWorker(mode: 'die' | 'live', cgroups: Awaited<ReturnType<typeof findCgroups>>) {
  const dirs = jobDirsIn(join(mkdtempSync(join(tmpdir(), 'pushci-orphans-')), 'workspaces', 'job'));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const id = `orphans-${mode}-${Date.now()}`;
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '../fixtures/workers/dies-before-go-worker.ts'),
      mode,
      id,
      JSON.stringify(dirs),
      JSON.stringify(cgroups),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
    child.on('exit', (c, s) => r([c, s])),
  );
  // The step's command line: `sleep 6<worker pid % 1000>`.
  return {
    code,
    signal,
    out,
    marker: join(dirs.src, 'marker'),
    tag: `sleep\u00006${child.pid! % 1000}\u0000`,
    cgroup: jobCgroupName(id, child.pid!),
  };
}

describe('a worker killed while its step’s sandbox starts', async () => {
  const cgroups = await findCgroups();

  it('attack: a sandbox told what to run but not "go" ends before the step (it would run on with nobody to end it)', async () => {
    const r = await runWorker('die', cgroups);
    assert.equal(r.signal, 'SIGKILL', `the worker died as planned (${r.out})`);
    // bubblewrap takes its block pipe's end as "go". What stops the step is the sandbox's first line,
    // which reads "go" itself (before it, the ready report's write died of SIGPIPE, its reader gone: a
    // stop that hung on that signal's disposition, not on anything pushci checked).
    for (let i = 0; i < 20; i++) {
      assert.ok(!existsSync(r.marker), 'nothing of the step ran');
      await sleep(100);
    }
    assert.deepEqual(withCommandLine(r.tag), [], 'no step process is left');
    // What the dead worker left is its job cgroup, empty: a sweep removes it (this one, or that of a
    // worker another test file starts meanwhile). Its count is not checked: other test files' killed
    // workers may leave processes exiting at that moment.
    if (cgroups) {
      const dirs = cgroupParents(cgroups).map((p) => join(p, r.cgroup));
      await sweepCgroups(cgroups);
      for (const d of dirs) assert.ok(!existsSync(d), `${d} is removed`);
    }
  });

  it('control: the same worker left alive runs the step (and times it out)', async () => {
    const r = await runWorker('live', cgroups);
    assert.equal(r.code, 0, r.out);
    assert.equal(readFileSync(r.marker, 'utf8'), 'ran\n');
    assert.deepEqual(JSON.parse(r.out), { timedOut: true });
    assert.deepEqual(withCommandLine(r.tag), []);
  });

  it('the sweep kills what is left in a dead worker’s job cgroup, and nothing in a live one’s or another PID namespace’s', async (t) => {
    if (!cgroups) return t.skip('this process may not make cgroups (not root): limits are rlimits');
    const dirsOf = (name: string) => cgroupParents(cgroups).map((p) => join(p, name));
    const start = (name: string) => {
      for (const d of dirsOf(name)) mkdirSync(d, { recursive: true });
      const p = spawn('sleep', ['6999'], { stdio: 'ignore' });
      for (const d of dirsOf(name)) writeFileSync(join(d, 'cgroup.procs'), String(p.pid));
      return { p, exit: new Promise<string | null>((r) => p.on('exit', (_c, s) => r(s))) };
    };
    const deadName = jobCgroupName('b1-j-1', 999999998);
    // A worker of another PID namespace (another pushci in a container sharing the cgroup tree): its pid
    // means nothing here, so its job is never killed.
    const otherName = '999999997-n1-b3-j-1';
    const dead = start(deadName);
    const live = start(jobCgroupName('b2-j-1'));
    const other = start(otherName);
    try {
      // At least this one (another test file's killed worker may have left a process too).
      assert.ok((await sweepCgroups(cgroups)) >= 1, 'a process killed');
      assert.equal(await dead.exit, 'SIGKILL');
      for (const d of dirsOf(deadName)) assert.ok(!existsSync(d), `${d} is removed`);
      for (const x of [live, other]) {
        assert.equal(x.p.exitCode, null, 'a live worker’s step, and another namespace’s, run on');
        assert.equal(x.p.signalCode, null);
      }
    } finally {
      for (const x of [dead, live, other]) {
        x.p.kill('SIGKILL');
        await x.exit;
      }
      for (const d of [...dirsOf(jobCgroupName('b2-j-1')), ...dirsOf(otherName)])
        await new Promise((r) => execFile('rmdir', [d], r));
    }
  });
});
