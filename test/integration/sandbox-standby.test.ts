import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { JobDirs, JobLimits, NetworkMode } from '../../src/runner/backend.ts';
import { jobDirsIn } from '../../src/runner/job-dirs.ts';
import { cgroupParents, findCgroups, jobCgroupName } from '../../src/runner/backends/sandbox/cgroups.ts';
import { withCommandLine } from '../helpers/processes.ts';
import { sandboxBackend } from '../../src/runner/backends/sandbox/sandbox-backend.ts';
import { directSpawn, startSpawner, type SpawnFn } from '../../src/runner/spawner/start-spawner.ts';
import { startStandby } from '../../src/runner/backends/sandbox/standby-sandbox.ts';
import { runStep } from '../../src/runner/run-step.ts';

const LIMITS: JobLimits = { processes: 100, memoryBytes: 256 * 1024 * 1024, diskBytes: 0, openFiles: 256 };

function jobDirs(): JobDirs {
  const dirs = jobDirsIn(join(mkdtempSync(join(tmpdir(), 'pushci-standby-')), 'workspaces', 'job'));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}

/** A sandbox backend whose every program start is seen: which program, with which arguments. */
function watchedBackend(cgroups: Awaited<ReturnType<typeof findCgroups>>) {
  const starts: string[][] = [];
  const spawn: SpawnFn = (cmd, args, opts) => {
    starts.push([cmd, ...args]);
    return directSpawn(cmd, args, opts);
  };
  const backend = sandboxBackend({ hide: [], home: null, cgroups, spawn });
  made.push(backend);
  return { backend, starts };
}
/** Every backend the tests made: closed at the end, which ends what each keeps for a next job. */
const made: Array<ReturnType<typeof sandboxBackend>> = [];
after(() => Promise.all(made.map((b) => b.close?.())));

/** A job prepared in a watched backend (`watchedBackend`), in folders of its own, for `starts` steps. */
async function watchedJob(
  cgroups: Awaited<ReturnType<typeof findCgroups>>,
  name: string,
  network: NetworkMode,
  starts: number,
) {
  const watched = watchedBackend(cgroups);
  const dirs = jobDirs();
  const rt = await watched.backend.prepare({
    id: `standby-${name}-${process.pid}-${Date.now()}`,
    dirs,
    readOnly: [],
    network,
    limits: LIMITS,
    starts,
  });
  return { starts: watched.starts, dirs, rt };
}

/** Runs `argv` (no script) as one step of `rt`, returning its exit code and output. */
async function step(
  rt: Awaited<ReturnType<ReturnType<typeof sandboxBackend>['prepare']>>,
  dirs: JobDirs,
  argv: string[],
  env: Record<string, string>,
) {
  const lines: string[] = [];
  const r = await runStep(rt, {
    script: '',
    argv,
    shell: null,
    scriptFile: join(dirs.scripts, 'unused.sh'),
    cwd: dirs.src,
    env,
    timeoutMs: 30_000,
    killGraceMs: 500,
    onLine: (_s, l) => lines.push(l),
  });
  return { exitCode: r.exitCode, out: lines.join('\n') };
}

// Arguments and values a shell or bubblewrap could take for something else: option names, quotes,
// command substitutions, globs, newlines, an empty word.
const TRICKY = [
  '--bind',
  '/',
  '/tmp',
  "it's",
  'a "b"',
  '$(touch /tmp/pwned)',
  '`id`',
  '*',
  '\n--ro-bind\n/\n/x',
  '',
];

describe('steps started from a standby bubblewrap (made ahead, in the job cgroups)', async () => {
  const cgroups = await findCgroups();
  const networks: NetworkMode[] = ['none', 'default'];
  for (const network of networks) {
    it(`each of several steps gets exactly its own command and environment (network: ${network})`, async () => {
      const { starts, dirs, rt } = await watchedJob(cgroups, 'steps', network, 3);
      try {
        // Prints its arguments one per line between markers, then its environment's names and values.
        const printer = join(dirs.scripts, 'print.sh');
        writeFileSync(printer, 'for a in "$@"; do printf "<%s>\\n" "$a"; done; env -0 | tr "\\0" "\\n"');
        for (let i = 0; i < 3; i++) {
          const env = {
            PATH: process.env.PATH!,
            ...rt.env,
            STEP: String(i),
            TRICKY: TRICKY.join('|'),
            HOST_X: '-u=x',
            // Names that are no shell identifiers (GitHub's INPUT_NODE-VERSION): the wrapper's shell
            // would drop them; they still arrive, each step only its own.
            [`INPUT_NODE-VERSION-${i}`]: `2${i} $(id)`,
            [`My Input ${i}`]: TRICKY.join('|'),
          };
          const before = starts.length;
          // bash, as a step's default shell: dash (sh here) drops the names that are no identifiers itself.
          const r = await step(rt, dirs, ['/bin/bash', printer, ...TRICKY, `step-${i}`], env);
          assert.equal(r.exitCode, 0, r.out);
          const args = TRICKY.concat(`step-${i}`)
            .map((a) => `<${a}>`)
            .join('\n');
          assert.ok(r.out.startsWith(args), `the arguments arrive as given:\n${r.out}`);
          const vars = r.out.slice(args.length + 1).split('\n');
          for (const [k, v] of Object.entries(env)) assert.ok(r.out.includes(`${k}=${v}`), `${k} arrives`);
          if (i > 0) assert.ok(!r.out.includes(`INPUT_NODE-VERSION-${i - 1}=`), 'not the step before’s');
          assert.ok(
            !vars.some((l) => l.startsWith('PUSHCI_STANDBY')),
            'the standby’s own variables are gone',
          );
          // The step that ran was started before the step (a standby): no program was started for it.
          assert.equal(starts.length - before <= 1, true, 'at most the next standby started during the step');
          assert.ok(
            starts.slice(0, before).some((s) => s.includes('--args')),
            'a standby was started ahead of the step',
          );
        }
        // The `$(touch /tmp/pwned)` argument stayed data: nothing ran it in the sandbox's /tmp.
        assert.ok(!existsSync(join(dirs.tmp, 'pwned')), 'no argument was run as code');
      } finally {
        await rt.destroy();
      }
    });
  }

  it('attack: a value with a NUL byte (which would split bubblewrap’s options) fails the step before anything starts', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'pushci-standby-host-')), 'host-only');
    writeFileSync(marker, 'host secret');
    const { starts, dirs, rt } = await watchedJob(cgroups, 'nul', 'none', 2);
    try {
      // Sent as is, this would add `--bind <marker's folder> /mnt` to the sandbox's options.
      const injected = `x\0--bind\0${join(marker, '..')}\0/mnt`;
      const before = starts.length;
      const bad = await step(rt, dirs, ['/bin/cat', '/mnt/host-only'], {
        PATH: '/usr/bin:/bin',
        EVIL: injected,
      });
      // It fails as a program that cannot be run does (the job goes on to `if: always()` steps), saying why.
      assert.equal(bad.exitCode, 127);
      assert.match(
        bad.out,
        /the step cannot be started: the value of the environment variable EVIL holds a NUL byte/,
      );
      assert.doesNotMatch(bad.out, /host secret/);
      // Nothing was started for it but the next step's standby.
      assert.ok(starts.slice(before).every((s) => s.includes('--args')));
      // Control: the next step, with ordinary values, runs.
      const ok = await step(rt, dirs, ['/bin/sh', '-c', 'echo "fine $GOOD"'], {
        PATH: '/usr/bin:/bin',
        GOOD: 'yes',
      });
      assert.equal(ok.exitCode, 0, ok.out);
      assert.match(ok.out, /fine yes/);
    } finally {
      await rt.destroy();
    }
  });

  it('attack: an exported bash function in a step’s environment (where /bin/sh is bash, it would replace the sandbox’s own read or ulimit) fails the step', async () => {
    // Where /bin/sh is bash (Fedora, Arch), such a variable replaces a builtin of the sandbox's first
    // line: its check of "go" would pass on a pipe that ended, its ulimit would do nothing.
    const shown = spawnSync(
      'bash',
      [
        '-c',
        'IFS= read -r PUSHCI_STANDBY_GO <&5; case "$PUSHCI_STANDBY_GO" in go) echo RAN;; *) echo STOPPED;; esac',
      ],
      {
        argv0: 'sh',
        env: { 'BASH_FUNC_read%%': '() { PUSHCI_STANDBY_GO=go; }' },
        // fd 5 a pipe that ends at once, as when the worker died before "go".
        stdio: ['ignore', 'pipe', 'ignore', 'ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      },
    );
    assert.equal(shown.stdout.trim(), 'RAN', 'bash as sh takes the function (the reason for the refusal)');
    const { dirs, rt } = await watchedJob(cgroups, 'func', 'none', 2);
    try {
      const bad = await step(rt, dirs, ['/bin/sh', '-c', 'echo STEP-RAN; ulimit -n'], {
        PATH: '/usr/bin:/bin',
        'BASH_FUNC_ulimit%%': '() { :; }',
      });
      assert.equal(bad.exitCode, 127);
      assert.match(bad.out, /the step cannot be started: BASH_FUNC_ulimit%% is an exported shell function/);
      assert.doesNotMatch(bad.out, /STEP-RAN/);
      // Control: the same step without it runs, with its open-files limit.
      const ok = await step(rt, dirs, ['/bin/sh', '-c', 'echo STEP-RAN; ulimit -n'], {
        PATH: '/usr/bin:/bin',
      });
      assert.equal(ok.exitCode, 0, ok.out);
      assert.match(ok.out, new RegExp(`STEP-RAN\n${LIMITS.openFiles}`));
    } finally {
      await rt.destroy();
    }
  });

  it('attack: loader variables in a step’s environment never act in bubblewrap or nsenter (which run on this machine)', async () => {
    // A folder on this machine's /tmp: inside a sandbox /tmp is the job's own, so only a program that
    // runs outside one (bubblewrap, nsenter) could write the loader's debug output here.
    const host = mkdtempSync(join(tmpdir(), 'pushci-ld-'));
    const env = {
      PATH: '/usr/bin:/bin',
      LD_DEBUG: 'files',
      LD_DEBUG_OUTPUT: join(host, 'ld'),
      LD_PRELOAD: join(host, 'missing.so'),
    };
    const { starts, dirs, rt } = await watchedJob(cgroups, 'ld', 'default', 1);
    try {
      // The first from a standby, the second (more than `starts`) and the third (fed on stdin) from ones
      // made on the spot.
      for (let i = 0; i < 3; i++) {
        const before = starts.length;
        const lines: string[] = [];
        const started = await rt.start({
          argv: ['/bin/sh', '-c', 'echo "output to $LD_DEBUG_OUTPUT"'],
          cwd: dirs.src,
          env,
          ...(i === 2 ? { stdin: Readable.from(['input']) } : {}),
        });
        started.stdout.on('data', (d: Buffer) => lines.push(d.toString()));
        const r = await started.exit;
        await started.kill(0);
        // Control: the variables reach the step itself.
        assert.equal(r.exitCode, 0);
        assert.match(lines.join(''), new RegExp(`output to ${join(host, 'ld')}`));
        if (i > 0) assert.ok(starts.length > before, 'a bubblewrap was started on the spot for it');
        for (const s of starts)
          assert.ok(!s.some((a) => a.includes('LD_')), 'no loader variable on a command line');
      }
      assert.deepEqual(readdirSync(host), [], 'no program outside the sandboxes wrote the loader’s output');
    } finally {
      await rt.destroy();
    }
  });

  it('standbys ended unused through the spawner leave no process behind, however the kill lands', async () => {
    // The spawner's kill lands a moment after the call: a standby must stop on its own before it makes
    // anything (a closed options pipe alone let bubblewrap go on and fork a process nobody released).
    const spawn = startSpawner({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });
    const tag = 4093; // an open-files limit no other test uses: it marks these standbys' command lines
    try {
      for (let i = 0; i < 100; i++) {
        const sb = await startStandby({
          spawn,
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
          bwrap: '/usr/bin/bwrap',
          nsenter: '/usr/bin/nsenter',
          slot: null,
          shell: { nofile: tag },
          place: null,
        });
        // Ended at once, or after bubblewrap had a moment with its pipe; or its pipe closed first with
        // nothing sent (as when its worker dies), and then killed.
        if (i % 2 === 1) await new Promise((r) => setTimeout(r, i % 7));
        if (i % 3 === 2) sb.child.stdio[6]?.destroy();
        await sb.discard();
      }
    } finally {
      spawn.close();
    }
    const ours = () => withCommandLine(`ulimit -n ${tag}`);
    for (let i = 0; i < 50 && ours().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(ours(), [], 'no standby is left');
  });

  /** The folders of the cgroup named `name` (see jobCgroupName). */
  const cgroupDirs = (name: string) => (cgroups ? cgroupParents(cgroups).map((p) => join(p, name)) : []);
  /** Processes whose command line holds `ulimit -n <tag>`: standbys and sandboxes of jobs with that open-files limit. */
  const tagged = (tag: number) => withCommandLine(`ulimit -n ${tag}`);

  it('a job whose cgroups still hold memory reclaim cannot free (its files on a tmpfs) does not pass them on: the next job gets its own', async (t) => {
    if (!cgroups) return t.skip('this process may not make cgroups (not root): there are none to pass on');
    const { backend } = watchedBackend(cgroups);
    const limits = { ...LIMITS, openFiles: 4094 };
    const shm = mkdtempSync(join('/dev/shm', 'pushci-standby-'));
    t.after(() => rmSync(shm, { recursive: true, force: true }));
    const onShm = jobDirsIn(join(shm, 'workspaces', 'job'));
    for (const d of Object.values(onShm)) mkdirSync(d, { recursive: true });
    const id1 = `standby-held-${process.pid}-${Date.now()}`;
    const a = await backend.prepare({ id: id1, dirs: onShm, readOnly: [], network: 'default', limits });
    try {
      // 20 MB of files on a tmpfs: charged to the job's cgroups for as long as they exist.
      const r = await step(a, onShm, ['/bin/sh', '-c', 'head -c 20000000 /dev/zero > big && echo wrote'], {
        PATH: '/usr/bin:/bin',
      });
      assert.equal(r.exitCode, 0, r.out);
    } finally {
      await a.destroy();
    }
    for (const d of cgroupDirs(jobCgroupName(id1))) assert.ok(!existsSync(d), `not kept: ${d}`);
    const dirs = jobDirs();
    const b = await backend.prepare({ id: `${id1}-2`, dirs, readOnly: [], network: 'default', limits });
    try {
      for (const d of cgroupDirs(jobCgroupName(`${id1}-2`)))
        assert.ok(existsSync(d), `a cgroup of its own: ${d}`);
      const r = await step(b, dirs, ['/bin/sh', '-c', 'echo ran'], { PATH: '/usr/bin:/bin' });
      assert.equal(r.exitCode, 0, r.out);
    } finally {
      await b.destroy();
    }
    // Control: the same job's files on disk (page cache, which reclaim frees) leave them kept.
    for (const d of cgroupDirs(jobCgroupName(`${id1}-2`))) assert.ok(existsSync(d), `kept: ${d}`);
  });

  it('a standby kept from a job with other limits is not used: the next job’s first step has its own file-size limit', async () => {
    const { backend } = watchedBackend(cgroups);
    const run = async (id: string, limits: JobLimits) => {
      const dirs = jobDirs();
      const rt = await backend.prepare({ id, dirs, readOnly: [], network: 'default', limits });
      try {
        return await step(rt, dirs, ['/bin/sh', '-c', 'ulimit -f'], { PATH: '/usr/bin:/bin' });
      } finally {
        await rt.destroy();
      }
    };
    const id = `standby-limits-${process.pid}-${Date.now()}`;
    const limited = await run(id, { ...LIMITS, openFiles: 4095, diskBytes: 1024 * 1024 });
    assert.equal(limited.out.trim(), '2048', 'a 1 MiB file-size limit, in blocks of 512 bytes');
    const free = await run(`${id}-2`, { ...LIMITS, openFiles: 4095, diskBytes: 0 });
    assert.equal(free.out.trim(), 'unlimited', 'not the first job’s limit');
  });

  it('a job that ends before its first step: its slot, cgroups and standby wait for the next job, and the backend’s close ends them', async () => {
    const { backend } = watchedBackend(cgroups);
    const limits = { ...LIMITS, openFiles: 4091 }; // marks this test's standbys' command lines
    const id = `standby-unused-${process.pid}-${Date.now()}`;
    const reserved = await backend.reserve!({ id, network: 'default', limits, starts: 1 });
    await reserved.release();
    await reserved.release();
    for (const d of cgroupDirs(jobCgroupName(id))) assert.ok(existsSync(d), `${d} is kept for the next job`);
    assert.equal(tagged(4091).length, 1, 'its standby waits');
    // Control: the next reservation takes them over, and prepare runs its step there.
    const dirs = jobDirs();
    const again = await backend.reserve!({ id: `${id}-2`, network: 'default', limits, starts: 1 });
    const rt = await backend.prepare({
      id: `${id}-2`,
      dirs,
      readOnly: [],
      network: 'default',
      limits,
      reserved: again,
    });
    try {
      const r = await step(rt, dirs, ['/bin/sh', '-c', 'echo ran'], { PATH: '/usr/bin:/bin' });
      assert.equal(r.exitCode, 0);
      assert.match(r.out, /ran/);
      for (const d of cgroupDirs(jobCgroupName(`${id}-2`)))
        assert.ok(!existsSync(d), `no cgroup of its own: ${d}`);
    } finally {
      await rt.destroy();
      await again.release();
    }
    await backend.close!();
    for (const d of cgroupDirs(jobCgroupName(id)))
      assert.ok(!existsSync(d), `${d} is removed once the backend closes`);
    for (let i = 0; i < 50 && tagged(4091).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(tagged(4091), [], 'no standby is left');
  });

  it('the next job’s first step starts from the standby the last job left in its slot: nothing started for it, and only its own limit hits reported', async () => {
    const { backend, starts } = watchedBackend(cgroups);
    const limits = { ...LIMITS, openFiles: 4092 };
    const run = async (id: string, script: string) => {
      const dirs = jobDirs();
      const rt = await backend.prepare({ id, dirs, readOnly: [], network: 'default', limits, starts: 1 });
      try {
        const before = starts.length;
        const lines: string[] = [];
        const r = await runStep(rt, {
          script,
          shell: 'sh -e {0}',
          scriptFile: join(dirs.scripts, 'step.sh'),
          cwd: dirs.src,
          env: { PATH: '/usr/bin:/bin', ...rt.env },
          timeoutMs: 30_000,
          killGraceMs: 500,
          onLine: (_s, l) => lines.push(l),
        });
        return { ...r, out: lines.join('\n'), started: starts.slice(before) };
      } finally {
        await rt.destroy();
      }
    };
    const id1 = `standby-next-${process.pid}-${Date.now()}`;
    try {
      // The first job forks past its process limit (with cgroups: a limit its result reports).
      const first = await run(id1, 'for i in $(seq 150); do sleep 30 & done; echo started-all');
      assert.notEqual(first.exitCode, 0, first.out);
      assert.doesNotMatch(first.out, /started-all/);
      if (cgroups) assert.match(first.limit ?? '', /process limit of 100/);
      const made = starts.length;
      const second = await run(`${id1}-2`, 'echo ran; ulimit -n');
      assert.equal(second.exitCode, 0, second.out);
      assert.match(second.out, /ran\n4092/);
      assert.equal(second.limit, null, 'the first job’s limit hit is not the second’s');
      assert.equal(
        starts.length - made,
        1,
        `only the standby for the job after it was started: ${JSON.stringify(starts.slice(made))}`,
      );
      assert.deepEqual(second.started, [], 'nothing was started for its step');
      for (const d of cgroupDirs(jobCgroupName(`${id1}-2`)))
        assert.ok(!existsSync(d), `no cgroup made for it: ${d}`);
      for (const d of cgroupDirs(jobCgroupName(id1)))
        assert.ok(existsSync(d), `it ran in the first job’s: ${d}`);
    } finally {
      await backend.close!();
    }
    for (const d of cgroupDirs(jobCgroupName(id1)))
      assert.ok(!existsSync(d), `${d} is removed once the backend closes`);
  });
});
