import { readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type {
  Backend,
  JobLimits,
  JobRuntime,
  PrepareOptions,
  Reservation,
  StartOptions,
  StartedStep,
  StepExit,
} from '../../backend.ts';
import { formatBytes } from '../../../format-bytes.ts';
import { createJobCgroup, sweepCgroups, type CgroupRoots, type JobCgroup } from './cgroups.ts';
import { watchDisk } from './disk-watcher.ts';
import { bwrapArgs, homeInside, shmDir } from './mounts.ts';
import { blockedDestinations } from './network.ts';
import { namespaceMembers, processRunning, signalPid } from './pid-namespace.ts';
import { readBwrapInfo } from './bwrap-info.ts';
import { resolvConfFor } from './resolv-conf.ts';
import { attachNetwork } from './attach-network.ts';
import { effectiveLimits, stepRlimits } from './step-rlimits.ts';
import { programPath } from './program-path.ts';
import { networkSlots } from './network-slots.ts';
import type { SlotNetwork } from './slot-network.ts';
import { directSpawn, type SpawnFn } from '../../spawner/start-spawner.ts';
import { GO, standbyArgs, startStandby, type Standby } from './standby-sandbox.ts';
import { forwarderProblem, listensOn, startForwarder, startServiceForwarder } from './forwarder.ts';

export interface SandboxOptions {
  /** pushci's own folders the steps must not see (data dir, working directory, pipelines folder). */
  hide: string[];
  /** The pushci user's home, replaced by the job's own. */
  home: string | null;
  /** Per-job cgroups when this process may make them; null: rlimits only. */
  cgroups: CgroupRoots | null;
  /** How often a running job's disk usage is measured. */
  diskCheckMs?: number;
  /** Starts bubblewrap, the network helper and the checkout's git (default: forks of the worker). */
  spawn?: SpawnFn;
  /** The environment of the sandbox's helper programs (PATH). */
  helperEnv?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A /proc link (a process's namespace), read at once: procfs answers from memory, and node:fs/promises'
 * readlink is a round trip through libuv's thread pool that cost the event loop more (a CPU profile).
 */
const readlink = async (path: string) => readlinkSync(path);

/** A step that could not be started: exit 127, as for a program that cannot be run, and why on its stderr. */
function refusedStep(reason: string): StartedStep {
  return {
    stdout: Readable.from([]),
    stderr: Readable.from([Buffer.from(`${reason}\n`)]),
    exit: Promise.resolve({ exitCode: 127, signal: null }),
    kill: () => Promise.resolve(),
    limitHit: () => Promise.resolve(null),
  };
}

/** What `reserve` made for a job: its slot network, its cgroups, its first step's standby. */
interface Early {
  slot: SlotNetwork | null;
  cgroup: JobCgroup | null;
  standby: Promise<Standby | null>;
  /** `prepare` took it over (or it was released). */
  taken: boolean;
}

/**
 * Steps in Linux namespaces made by bubblewrap: the host's root read-only, the job's own checkout,
 * /tmp and $HOME, its own PID namespace (everything it starts ends with the step), its own network
 * (outbound through slirp4netns, nothing of this machine reachable) and per-job limits (cgroups when
 * allowed, rlimits otherwise).
 */
export function sandboxBackend(opts: SandboxOptions): Backend {
  const diskCheckMs = opts.diskCheckMs ?? 3000;
  const spawn = opts.spawn ?? directSpawn;
  const helper = { spawn, env: opts.helperEnv ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } };
  // By its absolute path: the step's own PATH (which its earlier steps extend through $GITHUB_PATH, with
  // folders they wrote) must not pick the program that makes its sandbox.
  const bwrap = programPath('bwrap', helper.env.PATH ?? '') ?? '/usr/bin/bwrap';
  const nsenter = programPath('nsenter', helper.env.PATH ?? '') ?? '/usr/bin/nsenter';
  const slots = networkSlots(helper);
  const reservations = new WeakMap<Reservation, Early>();

  /** How a job's sandboxes are started (see `Standby`): in `slot`, moved into `cgroup`, with its limits. */
  const standbyOptions = (slot: SlotNetwork | null, cgroup: JobCgroup | null, limits: JobLimits) => ({
    ...helper,
    bwrap,
    nsenter,
    slot,
    shell: stepRlimits(limits, cgroup !== null).shell,
    place: cgroup ? (pid: number) => cgroup.add(pid) : null,
  });

  /** A standby for the job's next step (null when it could not start: that step gets one on the spot). */
  const standbyFor = (slot: SlotNetwork | null, cgroup: JobCgroup | null, limits: JobLimits) =>
    startStandby(standbyOptions(slot, cgroup, limits)).catch(() => null);

  /**
   * What a finished job left ready for the next one of its kind: its slot network (walls current,
   * nothing of the job left in it), its cgroups (empty, counters taken as the next job's baseline) and a
   * standby started in both. A job's start then waits for none of them: making a cgroup takes 2 to 4 ms
   * (two hierarchies on cgroup v1), and moving a process into one waits for an RCU grace period of the
   * kernel (15 to 35 ms on an idle machine here), which a standby made at the job's start made every
   * job's first step wait for. Only for the default network with the same limits; at most one per job
   * that ran at once, as the slots.
   */
  const warm: Array<{
    slot: SlotNetwork;
    cgroup: JobCgroup | null;
    limits: string;
    standby: Promise<Standby | null>;
  }> = [];
  /** What a kept standby and cgroups were made for: the cgroups' limits and the standby's own (its fixed command). */
  const limitsKey = (l: JobLimits) =>
    JSON.stringify([l.processes, l.memoryBytes, stepRlimits(l, opts.cgroups !== null).shell]);
  let closed = false;

  /** Keeps a finished job's slot and cgroups for the next job (see `warm`), or ends them. */
  const park = async (
    slot: SlotNetwork | null,
    cgroup: JobCgroup | null,
    limits: JobLimits | null,
    reusable: boolean,
    standby: Promise<Standby | null> | null,
  ) => {
    const keep =
      limits !== null &&
      reusable &&
      slot !== null &&
      slot.alive() &&
      (opts.cgroups ? cgroup !== null && (await cgroup.renew()) : true) &&
      // Checked last: `close` may have come while the cgroups were looked at.
      !closed;
    if (keep) {
      // Kept, it does not keep the worker alive (as the slot's holder does not); the job that takes it does.
      const parked = (standby ?? standbyFor(slot, cgroup, limits)).then((sb) => (sb?.child.unref(), sb));
      warm.push({ slot, cgroup, limits: limitsKey(limits), standby: parked });
      return;
    }
    await (await standby)?.discard();
    // After `close`, the slots' idle list is closed too: one given back now would live on.
    if (slot) slots.release(slot, reusable && !closed);
    await cgroup?.remove();
  };

  /** The job's slot network and cgroups side by side, then its first step's standby. */
  const reserveJob = async (o: Pick<PrepareOptions, 'id' | 'network' | 'limits'>): Promise<Early> => {
    if (o.network === 'default') {
      // A parked one whose slot is still whole (its walls current) and limits the same.
      for (const key = limitsKey(o.limits); ;) {
        const i = warm.findIndex((w) => w.limits === key);
        if (i < 0) break;
        const w = warm.splice(i, 1)[0]!;
        const standby = w.standby.then((sb) => (sb?.child.ref(), sb));
        if (w.slot.current()) return { slot: w.slot, cgroup: w.cgroup, standby, taken: false };
        await park(w.slot, w.cgroup, o.limits, false, standby);
      }
    }
    const [slot, cgroup] = await Promise.allSettled([
      o.network === 'default' ? slots.acquire() : null,
      opts.cgroups ? createJobCgroup(opts.cgroups, o.id, o.limits).catch(() => null) : null,
    ]);
    if (slot.status === 'rejected') {
      if (cgroup.status === 'fulfilled') await cgroup.value?.remove();
      throw slot.reason as Error;
    }
    const cg = cgroup.status === 'fulfilled' ? cgroup.value : null;
    return { slot: slot.value, cgroup: cg, standby: standbyFor(slot.value, cg, o.limits), taken: false };
  };

  /** Gives back what `reserveJob` made, unused (kept for the next job with its standby, or ended). */
  const releaseEarly = (early: Early, limits: JobLimits) =>
    park(early.slot, early.cgroup, limits, true, early.standby);

  return {
    name: 'sandbox',
    isolated: true,
    spawn,
    describe(o) {
      const l = effectiveLimits(o.limits, Boolean(opts.cgroups));
      // A limit lowered by the worker's own hard rlimit says so, or the log would claim what no step got.
      const capped = (name: keyof JobLimits) =>
        l[name] < o.limits[name]
          ? ` (the worker's own hard limit; configured ${name === 'memoryBytes' ? formatBytes(o.limits[name]) : o.limits[name]})`
          : '';
      const lim = [
        l.processes > 0 ? `${l.processes} processes${capped('processes')}` : null,
        l.memoryBytes > 0 ? `${formatBytes(l.memoryBytes)} memory${capped('memoryBytes')}` : null,
        l.diskBytes > 0 ? `${formatBytes(l.diskBytes)} disk` : null,
        l.openFiles > 0 ? `${l.openFiles} open files${capped('openFiles')}` : null,
      ].filter(Boolean);
      const net = { default: 'outbound only', none: 'none', host: 'the host’s (network: host)' }[o.network];
      return `pushci: runner: sandbox (network: ${net}; limits: ${lim.join(', ') || 'none'}${opts.cgroups ? '' : ', as rlimits'})`;
    },
    async reserve(o) {
      const early = await reserveJob(o);
      const reservation: Reservation = {
        async release() {
          if (early.taken) return;
          early.taken = true;
          // Nothing ran in the slot: its standby never made a sandbox.
          await releaseEarly(early, o.limits);
        },
      };
      reservations.set(reservation, early);
      return reservation;
    },
    async prepare(o: PrepareOptions): Promise<JobRuntime> {
      const reserved = o.reserved ? reservations.get(o.reserved) : undefined;
      const early = reserved && !reserved.taken ? reserved : await reserveJob(o);
      early.taken = true;
      let resolvConf: string | null = null;
      try {
        if (o.network === 'default') {
          const text = resolvConfFor();
          if (text) {
            resolvConf = join(o.dirs.scripts, 'resolv.conf');
            await writeFile(resolvConf, text, { mode: 0o644 });
          }
        }
        await mkdir(shmDir(o.dirs), { recursive: true, mode: 0o700 });
      } catch (e) {
        // No runtime to destroy them: what the reservation made goes now.
        await releaseEarly(early, o.limits);
        throw e;
      }
      // Outbound-only steps (and services) run in the network of one of the worker's slots, walled off and
      // attached to slirp4netns once, not in one made per step.
      let slot: SlotNetwork | null = early.slot;
      /** The inits of the PID namespaces of the steps started in `slot` (see `slotEmptied`). */
      let inits: Array<{ pid: number; ns: string | null }> = [];
      const base = bwrapArgs({
        dirs: o.dirs,
        hide: opts.hide,
        home: opts.home,
        readOnly: o.readOnly,
        network: o.network,
        resolvConf,
        slotNetwork: slot !== null,
      });
      const cgroup = early.cgroup;
      const limits = stepRlimits(o.limits, cgroup !== null);
      /** The next step's bubblewrap, started ahead (see `Standby`); refilled while more starts are expected. */
      let standby: Promise<Standby | null> | null = early.standby;
      let starts = 0;
      /** Standbys being ended unused; the slot is given back only once they have. */
      const dropping = new Set<Promise<void>>();
      const dropStandby = (sb: Standby) => {
        const done: Promise<void> = sb.discard().finally(() => dropping.delete(done));
        dropping.add(done);
      };
      const live = new Set<StartedStep>();
      let gateway: { socket: string; port: number } | null = null;
      // Services' ports: each appears on the loopback of every sandbox started after it.
      const published: Array<{ socket: string; port: number }> = [];
      const serviceForwarders: Array<() => void> = [];
      let socketDir: string | null = null;
      const pids = new WeakMap<StartedStep, () => number | null>();
      const disk =
        o.limits.diskBytes > 0
          ? watchDisk({
              root: o.dirs.root,
              limitBytes: o.limits.diskBytes,
              everyMs: diskCheckMs,
              busy: () => live.size > 0,
              onOver: () => {
                for (const s of live) void s.kill(1000);
              },
            })
          : null;

      /**
       * Checks that the sandbox `pid` is in `slot`'s network (the one walled off: never another that
       * took the holder's pid) and, for a step given the gateway's URL, starts the gateway's forwarder
       * there for as long as the step runs (one that does not listen is no error, as in `attachNetwork`).
       */
      const joinedSlot = async (slot: SlotNetwork, pid: number, wantsGateway: boolean) => {
        if ((await readlink(`/proc/${pid}/ns/net`)) !== slot.netns)
          throw new Error("the step's sandbox is not in its slot's network");
        const g = wantsGateway ? gateway : null;
        const stop = g ? await startForwarder(slot.pid, g.port, g.socket).catch(() => null) : null;
        return { stop: () => stop?.() };
      };

      /**
       * Whether nothing of the job's steps is left in its slot's network, which the next job joins. A
       * step's end does not show it: bubblewrap reports the step's exit before its sandbox's init is gone.
       * The init ends only once every other process of its PID namespace has ended (their sockets closed
       * with them), so its end is the one thing to wait for; by the job's end it is long over. False (the
       * slot is then ended, not reused) when one could not be seen to end within 5 s.
       */
      const slotEmptied = async () => {
        const deadline = Date.now() + 5000;
        for (const { pid, ns } of inits) {
          if (ns === null) return false;
          const runs = async () =>
            processRunning(pid) && (await readlink(`/proc/${pid}/ns/pid`).catch(() => null)) === ns;
          while (await runs()) {
            if (Date.now() > deadline) return false;
            await sleep(5);
          }
        }
        return true;
      };

      /**
       * One try at starting a step's sandbox, in `ahead` when given (already in the job's cgroups); `ready`
       * tells whether the step itself got to run.
       */
      const launch = async (s: StartOptions, args: string[], ahead: Standby | null) => {
        const guard = o.network === 'default';
        if (slot && !slot.current()) {
          // Its holder or slirp4netns ended, or this machine gained an address its walls lack: the job goes
          // on in a new one, with every wall.
          slots.release(slot, false);
          slot = await slots.acquire();
          inits = [];
        }
        // bubblewrap entered into the slot's user and network namespaces makes the step's own (nested)
        // user namespace there: the step has the slot's network, and no capability over it.
        const inSlot = slot;
        let sb = ahead;
        // One made in another slot (this one replaced since), or without the stdin this step is fed on, is
        // no use; neither is one that ended.
        if (sb && (sb.slot !== inSlot || sb.stdin !== Boolean(s.stdin) || !sb.send(args))) {
          dropStandby(sb);
          sb = null;
        }
        if (!sb) {
          sb = await startStandby({ ...standbyOptions(inSlot, cgroup, o.limits), stdin: Boolean(s.stdin) });
          const moved = await sb.placed;
          // Never a step outside its job's limits (a bubblewrap that ended already is retried below).
          if (moved && !sb.ended) {
            await sb.discard();
            throw moved;
          }
          sb.send(args);
        }
        const child = sb.child;
        const st = {
          child,
          pid: 0,
          ns: null as string | null,
          exited: false,
          stopNetwork: null as (() => void) | null,
          exit: new Promise<StepExit>((resolve) => {
            child.once('error', () => resolve({ exitCode: 127, signal: null }));
            child.once('exit', (code, sig) => resolve({ exitCode: code, signal: sig }));
          }),
          ready: Promise.resolve(false),
        };
        void st.exit.then(() => {
          st.exited = true;
          st.stopNetwork?.();
        });
        // The extra descriptors are socket pairs; bwrap closing its ends must not be an error here.
        for (const fd of child.stdio.slice(3)) fd?.on('error', () => {});
        const readyFd = child.stdio[5];
        st.ready = readyFd
          ? new Promise<boolean>((resolve) => {
              readyFd.once('data', () => resolve(true));
              readyFd.once('end', () => resolve(false));
              readyFd.once('close', () => resolve(false));
            })
          : Promise.resolve(false);
        const block = child.stdio[4] as Writable;
        try {
          if (!child.stdio[3]) throw new Error('bubblewrap did not start');
          st.pid = await readBwrapInfo(child.stdio[3]);
          // The network, its walls and the gateway's forwarder (for a step given the gateway's URL only:
          // socat is the costliest program of a step's start) from one helper (attachNetwork), and the
          // services' ports, if any, all side by side: the step waits on its block fd until every one is
          // done. (The sandbox was born in the job's cgroups: its bubblewrap was moved there first.)
          const [ns, net, ...ports] = await Promise.allSettled([
            readlink(`/proc/${st.pid}/ns/pid`),
            inSlot
              ? joinedSlot(inSlot, st.pid, s.gateway === true)
              : attachNetwork(
                  st.pid,
                  { blocked: guard ? blockedDestinations() : null, forward: s.gateway ? gateway : null },
                  helper,
                ),
            // In a slot's network the services' ports are there already.
            ...(inSlot ? [] : published.map((p) => startForwarder(st.pid, p.port, p.socket))),
          ]);
          st.ns = ns.status === 'fulfilled' ? ns.value : null;
          st.stopNetwork = () => {
            if (net.status === 'fulfilled') net.value.stop();
            for (const f of ports) if (f.status === 'fulfilled') f.value();
          };
          if (st.exited) st.stopNetwork();
          if (net.status === 'rejected') throw net.reason as Error;
          // A step that cannot reach the job's services would fail for a reason it cannot see.
          for (const p of ports) if (p.status === 'rejected') throw p.reason as Error;
          block.end('go');
          // The sandbox's own check (see `standbyCommand`): after the block pipe, so a worker that dies
          // between the two leaves a sandbox that ends before the step.
          readyFd?.write(`${GO}\n`);
        } catch (e) {
          // The sandbox's first process already ended: bubblewrap gave up setting it up by itself (it
          // exits right after; the network saw the process go).
          const gone = st.exited || (st.pid > 0 && !processRunning(st.pid));
          child.kill('SIGKILL');
          if (st.pid && !st.exited) signalPid(st.pid, 'SIGKILL');
          const r = await st.exit;
          // bubblewrap gave up setting up the sandbox by itself (it exited, nobody killed it) while its
          // network was being attached: nothing of the step ran, `start` tries again.
          if (!gone && r.signal !== null) throw e;
        }
        return st;
      };

      /** The standby for this start, if one is ready for it; the next one is started right away. */
      const takeStandby = async () => {
        // Taken before any wait: starts side by side (services) never share one.
        const taken = standby;
        standby = ++starts < (o.starts ?? 1) ? standbyFor(slot, cgroup, o.limits) : null;
        const ready = taken ? await taken : null;
        if (!ready) return null;
        // One that could not be moved is dropped: the step's own start moves another, or says why not.
        const moved = await ready.placed;
        if (moved === null) return ready;
        dropStandby(ready);
        return null;
      };

      const start = async (s: StartOptions): Promise<StartedStep> => {
        const command = limits.prlimit.length > 0 ? ['prlimit', ...limits.prlimit, '--', ...s.argv] : s.argv;
        const options = [...base, '--chdir', s.cwd, '--info-fd', '3', '--block-fd', '4'];
        const sent = standbyArgs(options, s.env, command);
        const ahead = await takeStandby();
        if ('problem' in sent) {
          // No start of this step could send them: it fails as a program that cannot be run would.
          if (ahead) dropStandby(ahead);
          s.stdin?.resume();
          return refusedStep(`pushci: the step cannot be started: ${sent.problem}`);
        }
        let st = await launch(s, sent.args, ahead);
        // bubblewrap now and then fails to set up the sandbox's loopback under load ("Failed
        // RTM_NEWADDR"); nothing of the step ran then, so starting again is safe.
        for (let tries = 1; tries < 3 && !(await st.ready); tries++) {
          await st.exit;
          st.child.stdout?.destroy();
          st.child.stderr?.destroy();
          st = await launch(s, sent.args, null);
        }
        const { child, exit } = st;
        // Only now: a start that is retried must not have eaten the input.
        if (s.stdin && child.stdin) {
          child.stdin.on('error', () => {});
          s.stdin.on('error', () => child.stdin?.destroy());
          s.stdin.pipe(child.stdin);
        }
        let killing: Promise<void> | null = null;
        const kill = (graceMs: number) =>
          (killing ??= (async () => {
            // The step's main process ending ended its PID namespace (and every process in it) already.
            if (!st.exited && st.ns) {
              for (const p of await namespaceMembers(st.ns)) if (p !== st.pid) signalPid(p, 'SIGTERM');
              const deadline = Date.now() + graceMs;
              while (!st.exited && Date.now() < deadline) {
                const left = (await namespaceMembers(st.ns)).filter((p) => p !== st.pid);
                if (left.length === 0) break;
                await sleep(Math.min(100, graceMs));
              }
            }
            // SIGKILL to the namespace's init: the kernel kills everything else in it. (Only while
            // bwrap lives: it reaps that init, and after that the pid may belong to someone else.)
            if (st.pid && !st.exited) signalPid(st.pid, 'SIGKILL');
            child.kill('SIGKILL');
            await exit;
            st.stopNetwork?.();
            live.delete(step);
          })());
        const step: StartedStep = {
          stdout: child.stdout!,
          stderr: child.stderr!,
          exit,
          kill,
          async limitHit() {
            const over = disk?.over();
            if (over) return over;
            const hit = await cgroup?.exceeded();
            if (hit) return hit;
            const r = await exit;
            return r.exitCode !== 0 && disk ? disk.fullAfterFailure() : null;
          },
        };
        live.add(step);
        if (slot) inits.push({ pid: st.pid, ns: st.ns });
        pids.set(step, () => (st.exited ? null : st.pid));
        return step;
      };

      return {
        workspace: o.dirs.src,
        tmp: '/tmp',
        env: { HOME: homeInside({ home: opts.home, dirs: o.dirs }), TMPDIR: '/tmp' },
        start,
        async exposeGateway(socket) {
          if (o.network === 'host') return null;
          const problem = forwarderProblem();
          if (problem) return { unavailable: problem };
          // The sandbox's loopback is its own: any port is free there.
          gateway = { socket, port: 20000 + Math.floor(Math.random() * 40000) };
          return { url: `http://127.0.0.1:${gateway.port}/` };
        },
        services: {
          privateLoopback: o.network !== 'host',
          async publish(service, port) {
            // The steps share the service's network (the host's, or the job's slot's).
            if (o.network === 'host' || slot) return;
            const pid = pids.get(service)?.();
            if (!pid) throw new Error('the service ended before its port could be shared');
            socketDir ??= await mkdtemp(join(tmpdir(), 'pushci-services-'));
            const socket = join(socketDir, `${port}.sock`);
            serviceForwarders.push(await startServiceForwarder(pid, port, socket));
            published.push({ socket, port });
          },
          async listening(service, port) {
            const pid = pids.get(service)?.();
            return pid ? listensOn(pid, port) : false;
          },
        },
        async destroy() {
          disk?.stop();
          const unused = standby;
          standby = null;
          await Promise.all([...[...live].map((s) => s.kill(0)), unused?.then((sb) => sb?.discard())]);
          await Promise.all(dropping);
          for (const stop of serviceForwarders.splice(0)) stop();
          const emptied = slot ? await slotEmptied() : false;
          if (socketDir) await rm(socketDir, { recursive: true, force: true }).catch(() => {});
          if (o.network === 'default') await park(slot, cgroup, o.limits, emptied, null);
          else {
            if (slot) slots.release(slot, emptied);
            await cgroup?.remove();
          }
          slot = null;
        },
      };
    },
    // Steps die with their worker (--die-with-parent, and a sandbox whose worker died before telling it
    // "go" ends itself: see `standbyCommand`); one that started in the moment before it was bound to its
    // worker is still in its job cgroup, which names the dead worker: the sweep ends it there.
    sweep: async () => (opts.cgroups ? sweepCgroups(opts.cgroups) : 0),
    async close() {
      closed = true;
      // Each kept standby keeps the worker alive again until it has ended.
      const ending = warm
        .splice(0)
        .map((w) => ({ ...w, standby: w.standby.then((sb) => (sb?.child.ref(), sb)) }));
      await Promise.all(ending.map((w) => park(w.slot, w.cgroup, null, false, w.standby)));
      slots.close();
    },
  };
}
