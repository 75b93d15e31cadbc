import { directSpawn, type SpawnFn } from '../../spawner/start-spawner.ts';
import { userMapped } from './user-mapped.ts';

/** What a sandbox's network gets: the routes to block (null: no outbound network) and the gateway to forward. */
export interface NetworkPlan {
  /** Destinations made unreachable before slirp4netns gives the sandbox outbound access; null: neither. */
  blocked: string[] | null;
  /** 127.0.0.1:`port` in the sandbox forwarded to the job gateway's unix `socket`; null: none. */
  forward: { port: number; socket: string } | null;
}

/**
 * The shell script of a sandbox's network helper (see `attachNetwork`). Everything in it comes from
 * this machine (its addresses, a socket path of the worker's, numbers), never from a payload, and is
 * checked for shape all the same rather than quoted.
 */
export function networkScript(pid: number, plan: NetworkPlan): string {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a pid: ${pid}`);
  const ns = `nsenter -t ${pid} -U -n --preserve-credentials --`;
  const lines: string[] = [];
  if (plan.blocked) {
    const routes = plan.blocked.map((d) => {
      if (!/^[0-9a-f.:]+\/\d{1,3}$/i.test(d)) throw new Error(`not an address: ${d}`);
      return `route add prohibit ${d}`;
    });
    lines.push(
      `${ns} ip -batch - <<'ROUTES' || { echo "could not set the routes that wall off this machine" >&2; exit 125; }`,
      ...routes,
      'ROUTES',
    );
    const slirp = `slirp4netns --configure --mtu=65520 --disable-host-loopback --ready-fd=3 --exit-fd=4 ${pid} tap0`;
    // slirp4netns ends when the worker closes its exit fd (or dies): it needs no parent of its own.
    lines.push(plan.forward ? `${slirp} &` : `exec ${slirp}`);
  }
  if (plan.forward) {
    const { port, socket } = plan.forward;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not a port: ${port}`);
    if (!/^[A-Za-z0-9_./-]+$/.test(socket)) throw new Error(`socket path not usable by socat: ${socket}`);
    // Only slirp4netns keeps the ready and exit fds: the worker must see their end when it ends.
    lines.push(
      'exec 3>&- 4>&-',
      `exec ${ns} socat -d -d TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${socket}`,
    );
  }
  return lines.join('\n');
}

/**
 * Sets up the network of `pid` (a sandbox waiting to start) with one program started by the worker
 * (a fork of the worker costs more the bigger it is; a fork of sh does not): `ip` entered into the
 * sandbox's user and network namespaces sets a prohibit route for each blocked destination, so the
 * sandbox itself never holds CAP_NET_ADMIN; then slirp4netns gives it outbound access; then socat,
 * entered into the same two namespaces only (the step can neither see nor stop it), forwards the
 * gateway. The helper dies with the worker (`--pdeathsig`; slirp4netns by its exit fd).
 *
 * Rejects when the routes or the network could not be set up: the step must then not run. `ended`
 * settles when the helper (slirp4netns, or the forwarder) ended. A forwarder
 * that does not listen is not an error (`forwarding` says so): the cache protocol then refuses
 * connections and its clients carry on without a cache, as they do when a cache service is down.
 */
export async function attachNetwork(
  pid: number,
  plan: NetworkPlan,
  via: { spawn: SpawnFn; env: Record<string, string> } = {
    spawn: directSpawn,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  },
): Promise<{ stop: () => void; forwarding: boolean; ended: Promise<void> }> {
  if (!plan.blocked && !plan.forward) return { stop: () => {}, forwarding: false, ended: Promise.resolve() };
  // `ip` needs the capabilities of the namespace's root, which it has only once the uid map is written.
  if (plan.blocked) await userMapped(pid);
  const helper = await via.spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', networkScript(pid, plan)],
    { env: via.env, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  let exited = false;
  const done: Array<() => void> = [];
  const read = (c: Buffer) => {
    err += c.toString();
    for (const f of done) f();
  };
  helper.stderr!.on('data', read);
  helper.on('error', (e) => {
    err += e.message;
  });
  const exit = new Promise<void>((resolve) => helper.once('close', resolve));
  void exit.then(() => {
    exited = true;
    for (const f of done) f();
  });
  for (const fd of [helper.stdio[3], helper.stdio[4]]) fd?.on('error', () => {});
  const exitFd = helper.stdio[4];
  const stop = () => {
    exitFd?.destroy();
    helper.kill('SIGKILL');
  };
  /** Resolves when `test` holds, checked on each piece of output and at the helper's end. */
  const until = (test: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => test() && resolve();
      done.push(check);
      check();
    });
  const listening = () => / N listening on /.test(err);
  const ready = plan.blocked
    ? new Promise<boolean>((resolve) => {
        const fd = helper.stdio[3];
        if (!fd) return resolve(false);
        fd.once('data', () => resolve(true));
        fd.once('end', () => resolve(false));
        fd.once('close', () => resolve(false));
      })
    : Promise.resolve(true);
  const problem = () =>
    err
      .split('\n')
      .filter((l) => l.trim() && !/ [NW] /.test(l))
      .join(' ')
      .trim();
  if (!(await ready)) {
    stop();
    throw new Error(
      `could not set up the job's network: ${problem() || 'slirp4netns stopped before it was ready'}`,
    );
  }
  let forwarding = false;
  if (plan.forward) {
    const timer = setTimeout(() => done.forEach((f) => f()), 5000);
    const started = Date.now();
    await until(() => listening() || exited || Date.now() - started >= 5000);
    clearTimeout(timer);
    forwarding = listening();
    // A forwarder that never said it listens is ended (slirp4netns, on its own, goes on).
    if (!forwarding && !exited) helper.kill('SIGKILL');
  }
  // Later output (socat's notice per connection) is read and dropped, so the helper never blocks on it.
  helper.stderr!.off('data', read);
  helper.stderr!.resume();
  done.length = 0;
  // It lives as long as what it serves (a step, a slot's network), which decides when the worker may end.
  helper.unref();
  return { stop, forwarding, ended: exit };
}
