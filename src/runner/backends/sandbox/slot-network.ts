import { readlink } from 'node:fs/promises';
import type { SpawnFn } from '../../spawner/start-spawner.ts';
import { attachNetwork } from './attach-network.ts';
import { blockedDestinations } from './network.ts';

/** A worker slot's network, made once and joined by the steps of one job after another. */
export interface SlotNetwork {
  /** The holder's pid: a step's bubblewrap is started in its user and network namespaces. */
  readonly pid: number;
  /** Its network namespace (`/proc/<pid>/ns/net`): every step's is checked against it before it may run. */
  readonly netns: string;
  /** The destinations walled off in it (`blockedDestinations()` when it was made). */
  readonly blocked: readonly string[];
  /** False once the holder or slirp4netns ended: then it must not be joined again. */
  alive(): boolean;
  /**
   * Alive, and its walls are those this machine needs now: an address it gained since (DHCP, a VPN, a
   * new bridge) is not walled off in it, so a step must then not join it.
   */
  current(): boolean;
  /** Ends the holder and slirp4netns. */
  stop(): void;
}

/** The holder: root of a new user namespace (the worker's uid, mapped) owning a new network namespace. */
const HOLDER = ['--pdeathsig', 'KILL', '--', 'unshare', '--user', '--map-root-user', '--net', '--'];
// Its loopback up, then one byte on stdout once the namespaces exist; it then only holds them.
const HOLD = ['/bin/sh', '-c', 'ip link set lo up && printf . && exec sleep infinity'];

/**
 * Makes the network of one worker slot: a holder process (`setpriv --pdeathsig KILL -- unshare` then
 * `sleep`) owns a user and a network namespace; from outside, `attachNetwork` sets the prohibit routes
 * that wall off this machine and attaches slirp4netns for outbound access, as it does for a sandbox of
 * its own. Steps join it through `nsenter -U -n` and make a nested user namespace there (bubblewrap's
 * `--unshare-user`), so no step ever holds a capability over it: they cannot change its routes,
 * addresses or sysctls. Both processes die with the worker (pdeathsig; slirp4netns by its exit fd).
 *
 * Rejects when the holder did not start or the walls could not be set: nothing may then join it.
 */
export async function startSlotNetwork(
  blocked: string[],
  via: { spawn: SpawnFn; env: Record<string, string> },
): Promise<SlotNetwork> {
  const holder = await via.spawn('setpriv', [...HOLDER, ...HOLD], {
    env: via.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let holderEnded = false;
  let err = '';
  holder.on('error', (e) => (err += e.message));
  holder.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const ended = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  void ended.then(() => (holderEnded = true));
  let net: Awaited<ReturnType<typeof attachNetwork>> | null = null;
  const stop = () => {
    net?.stop();
    holder.kill('SIGKILL');
  };
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const out = holder.stdout;
      if (!out) return resolve(false);
      out.once('data', () => resolve(true));
      out.once('end', () => resolve(false));
      void ended.then(() => resolve(false));
    });
    if (!ready)
      throw new Error(`the slot's network holder did not start: ${err.trim() || 'no reason given'}`);
    const netns = await readlink(`/proc/${holder.pid}/ns/net`);
    // Never the worker's own network: the routes below would wall off this machine for everyone.
    if (netns === (await readlink('/proc/self/ns/net')))
      throw new Error('the holder has no network of its own');
    net = await attachNetwork(holder.pid, { blocked, forward: null }, via);
    // Idle, it must not keep the worker (or a test) alive; it dies with the worker all the same.
    holder.unref();
    let slirpEnded = false;
    void net.ended.then(() => (slirpEnded = true));
    const walls = [...blocked];
    const alive = () => !holderEnded && !slirpEnded;
    return {
      pid: holder.pid,
      netns,
      blocked: walls,
      alive,
      current: () => alive() && sameList(walls, blockedDestinations()),
      stop,
    };
  } catch (e) {
    stop();
    throw e;
  }
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);
