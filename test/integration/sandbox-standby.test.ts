import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { JobDirs, JobLimits, NetworkMode } from '../../src/runner/backend.ts';
import { jobDirsIn } from '../../src/runner/job-dirs.ts';
import { findCgroups } from '../../src/runner/backends/sandbox/cgroups.ts';
import { sandboxBackend } from '../../src/runner/backends/sandbox/sandbox-backend.ts';
import { directSpawn, type SpawnFn } from '../../src/runner/spawner/start-spawner.ts';
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
  return { backend: sandboxBackend({ hide: [], home: null, cgroups, spawn }), starts };
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
      const { backend, starts } = watchedBackend(cgroups);
      const dirs = jobDirs();
      const rt = await backend.prepare({
        id: `standby-${process.pid}-${Date.now()}`,
        dirs,
        readOnly: [],
        network,
        limits: LIMITS,
        starts: 3,
      });
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
          };
          const before = starts.length;
          const r = await step(rt, dirs, ['/bin/sh', printer, ...TRICKY, `step-${i}`], env);
          assert.equal(r.exitCode, 0, r.out);
          const args = TRICKY.concat(`step-${i}`)
            .map((a) => `<${a}>`)
            .join('\n');
          assert.ok(r.out.startsWith(args), `the arguments arrive as given:\n${r.out}`);
          const vars = r.out.slice(args.length + 1).split('\n');
          for (const [k, v] of Object.entries(env)) assert.ok(r.out.includes(`${k}=${v}`), `${k} arrives`);
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
        assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes('/tmp/pwned'));
      } finally {
        await rt.destroy();
      }
    });
  }

  it('attack: a value with a NUL byte (which would split bubblewrap’s options) never reaches a standby', async () => {
    const { backend, starts } = watchedBackend(cgroups);
    const dirs = jobDirs();
    const marker = join(mkdtempSync(join(tmpdir(), 'pushci-standby-host-')), 'host-only');
    writeFileSync(marker, 'host secret');
    const rt = await backend.prepare({
      id: `standby-nul-${process.pid}-${Date.now()}`,
      dirs,
      readOnly: [],
      network: 'none',
      limits: LIMITS,
      starts: 2,
    });
    try {
      // Through a standby this would add `--bind <marker's folder> /mnt` to the sandbox's options.
      const injected = `x\0--bind\0${join(marker, '..')}\0/mnt`;
      const before = starts.length;
      const bad = await step(rt, dirs, ['/bin/cat', '/mnt/host-only'], {
        PATH: '/usr/bin:/bin',
        EVIL: injected,
      }).catch((e: Error) => ({ exitCode: null, out: e.message }));
      assert.notEqual(bad.exitCode, 0);
      assert.doesNotMatch(bad.out, /host secret/);
      // Started the plain way, which refuses the value (as it always did): the standby was set aside.
      assert.ok(
        starts.slice(before).some((s) => !s.includes('--args')),
        'a plain start was asked for that step',
      );
      // Control: the next step, with ordinary values, runs (from a standby again).
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

  it('a job that ends before its first step leaves nothing: the reserved standby ends and its cgroup goes', async () => {
    const { backend } = watchedBackend(cgroups);
    const id = `standby-unused-${process.pid}-${Date.now()}`;
    const reserved = await backend.reserve!({ id, network: 'default', limits: LIMITS, starts: 1 });
    await reserved.release();
    await reserved.release();
    if (cgroups) {
      const parent = cgroups.version === 2 ? cgroups.base : cgroups.pids;
      const { existsSync } = await import('node:fs');
      assert.ok(!existsSync(join(parent, id)), 'the job cgroup is removed');
    }
    // Control: a reservation taken over by prepare runs the step.
    const dirs = jobDirs();
    const again = await backend.reserve!({ id: `${id}-2`, network: 'default', limits: LIMITS, starts: 1 });
    const rt = await backend.prepare({
      id: `${id}-2`,
      dirs,
      readOnly: [],
      network: 'default',
      limits: LIMITS,
      reserved: again,
    });
    try {
      const r = await step(rt, dirs, ['/bin/sh', '-c', 'echo ran'], { PATH: '/usr/bin:/bin' });
      assert.equal(r.exitCode, 0);
      assert.match(r.out, /ran/);
    } finally {
      await rt.destroy();
      await again.release();
    }
  });
});
