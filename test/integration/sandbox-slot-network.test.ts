import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync, readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Backend, JobDirs, JobRuntime, StartedStep } from '../../src/runner/backend.ts';
import { jobDirsIn } from '../../src/runner/job-dirs.ts';
import { sandboxBackend } from '../../src/runner/backends/sandbox/sandbox-backend.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { hostAddresses, reachable, sentinel } from '../helpers/network-probes.ts';

/*
 * Outbound-only jobs of one worker slot share one network, one job after another: nothing a job
 * leaves there (listeners, daemons) may reach the next, and no step may change that network or use it
 * to reach this machine. Each attack runs inside real sandboxes and prints "ATTACK <name> BLOCKED" or
 * "ATTACK <name> SUCCEEDED"; each is first shown to work where it should (within the job that made it).
 */

const NO_LIMITS = { processes: 0, memoryBytes: 0, diskBytes: 0, openFiles: 0 };
const TCP_LO = 41101;
const TCP_ANY = 41102;
const UDP_LO = 41103;
const DAEMON = 41104;
const KILLED = 41105;
const ABSTRACT = `pushci-slot-${process.pid}`;

function jobDirs(root: string, name: string): JobDirs {
  const dirs = jobDirsIn(join(root, name));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}

/** The step library: `r NAME COMMAND` prints whether COMMAND (an attack) worked. */
const LIB = String.raw`r() { if (eval "$2") >/dev/null 2>&1; then echo "ATTACK $1 SUCCEEDED"; else echo "ATTACK $1 BLOCKED"; fi; }
tcp() { timeout 3 socat -T2 -u "TCP:$1:$2" - | grep -q leaked; }
udp() { echo x | timeout 3 socat -T2 - "UDP:$1:$2" | grep -q leaked; }
abstract() { timeout 3 socat -T2 -u "ABSTRACT-CONNECT:$1" - | grep -q leaked; }
`;

/**
 * Listeners of every kind a job could leave behind, each answering "leaked". The UDP one reads the
 * datagram before it answers: a command that exits unread had socat's write of it fail (EPIPE) and, now
 * and then on a busy machine, end that answer before it was sent.
 */
const LISTENERS = String.raw`socat TCP-LISTEN:${TCP_LO},bind=127.0.0.1,fork,reuseaddr SYSTEM:'echo leaked' &
socat TCP-LISTEN:${TCP_ANY},fork,reuseaddr SYSTEM:'echo leaked' &
socat UDP-RECVFROM:${UDP_LO},bind=127.0.0.1,fork SYSTEM:'head -c 1 >/dev/null; echo leaked' &
socat ABSTRACT-LISTEN:${ABSTRACT},fork SYSTEM:'echo leaked' &
setsid nohup socat TCP-LISTEN:${DAEMON},fork,reuseaddr SYSTEM:'echo leaked' >/dev/null 2>&1 &
sleep 0.5
`;

const CHECKS = String.raw`r tcp-lo "tcp 127.0.0.1 ${TCP_LO}"
r tcp-any "tcp 127.0.0.1 ${TCP_ANY}"
r udp-lo "udp 127.0.0.1 ${UDP_LO}"
r abstract "abstract ${ABSTRACT}"
r daemon "tcp 127.0.0.1 ${DAEMON}"
`;

const attacks = (text: string) =>
  Object.fromEntries([...text.matchAll(/ATTACK (\S+) (BLOCKED|SUCCEEDED)/g)].map((m) => [m[1]!, m[2]!]));

/** Starts `script` in a sandbox of `rt`; `output()` is everything it printed so far. */
async function start(rt: JobRuntime, dirs: JobDirs, script: string, gateway = false) {
  const step = await rt.start({
    argv: ['/bin/bash', '-c', script],
    cwd: dirs.src,
    env: { PATH: process.env.PATH!, ...rt.env },
    gateway,
  });
  let out = '';
  step.stdout.on('data', (d: Buffer) => (out += d.toString()));
  step.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const ended = new Promise<void>((r) => {
    let n = 0;
    for (const s of [step.stdout, step.stderr]) s.once('close', () => ++n === 2 && r());
  });
  return { step, output: () => out, ended };
}

/** Runs `script` to its end in a sandbox of `rt`: its exit code and output. */
async function run(rt: JobRuntime, dirs: JobDirs, script: string, gateway = false) {
  const s = await start(rt, dirs, script, gateway);
  const exit = await s.step.exit;
  await s.ended;
  return { code: exit.exitCode, out: s.output() };
}

const netnsOf = (text: string) => /NETNS (net:\[\d+\])/.exec(text)?.[1];

/** Host pids of the processes in network namespace `ns` (the slot's holder and slirp4netns, and steps). */
function inNetwork(ns: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readlinkSync(`/proc/${e}/ns/net`) === ns;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
};

describe('the worker slot network: one job after another', () => {
  let root: string;
  let backend: Backend;
  let lo: Awaited<ReturnType<typeof sentinel>>;
  let any: Awaited<ReturnType<typeof sentinel>>;
  let redis: TestRedis;
  let gatewayServer: HttpServer;
  let gatewaySocket: string;
  let hostOutbound: boolean;
  let slotNs: string | undefined;
  let jobs = 0;
  const job = async () => {
    const dirs = jobDirs(root, `job-${++jobs}`);
    const rt = await backend.prepare({
      id: `slot-${process.pid}-${jobs}`,
      dirs,
      readOnly: [],
      network: 'default',
      limits: NO_LIMITS,
    });
    return { rt, dirs };
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pushci-slot-'));
    backend = sandboxBackend({ hide: [], home: null, cgroups: null });
    lo = await sentinel('127.0.0.1');
    any = await sentinel('0.0.0.0');
    redis = await startRedis({ private: true });
    hostOutbound = await reachable('registry.npmjs.org', 443);
    gatewaySocket = join(root, 'gateway.sock');
    gatewayServer = createHttpServer((_req, res) => res.end('gateway answers\n'));
    await new Promise<void>((r) => gatewayServer.listen(gatewaySocket, r));
  });

  after(async () => {
    await backend?.close?.();
    lo?.server.close();
    any?.server.close();
    gatewayServer?.close();
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  let gatewayPortA = 0;

  it('job A: its listeners work within the job, and it leaves some running, once ended and once killed', async () => {
    const { rt, dirs } = await job();
    try {
      const gw = await rt.exposeGateway!(gatewaySocket);
      assert.ok(gw && 'url' in gw, JSON.stringify(gw));
      gatewayPortA = Number(new URL(gw.url).port);
      // Control: every listener answers a step of the same job, and the gateway answers through its URL.
      const a = await run(
        rt,
        dirs,
        `${LIB}echo "NETNS $(readlink /proc/self/ns/net)"\n${LISTENERS}${CHECKS}curl -sS --max-time 5 ${gw.url}\n`,
        true,
      );
      assert.equal(a.code, 0, a.out);
      assert.deepEqual(
        attacks(a.out),
        {
          'tcp-lo': 'SUCCEEDED',
          'tcp-any': 'SUCCEEDED',
          'udp-lo': 'SUCCEEDED',
          abstract: 'SUCCEEDED',
          daemon: 'SUCCEEDED',
        },
        a.out,
      );
      assert.match(a.out, /gateway answers/);
      slotNs = netnsOf(a.out);
      assert.ok(slotNs, a.out);
      assert.notEqual(slotNs, readlinkSync('/proc/self/ns/net'), 'the job has a network of its own');
      // A second step that is still running when the job ends (killed, not ended by itself).
      const b = await start(
        rt,
        dirs,
        `socat TCP-LISTEN:${KILLED},fork,reuseaddr SYSTEM:'echo leaked' & sleep 0.3; echo LISTENING; sleep 1000`,
      );
      for (let i = 0; i < 200 && !/LISTENING/.test(b.output()); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(b.output(), /LISTENING/);
    } finally {
      await rt.destroy();
    }
  });

  it('job B in the same slot reaches nothing job A left, and cannot change the network or reach this machine', async () => {
    const { rt, dirs } = await job();
    try {
      const addrs = hostAddresses();
      const redisPort = new URL(redis.url).port;
      const script = `${LIB}echo "NETNS $(readlink /proc/self/ns/net)"
${CHECKS}r killed "tcp 127.0.0.1 ${KILLED}"
r gateway-of-a "timeout 3 curl -sS http://127.0.0.1:${gatewayPortA}/ | grep -q gateway"
r route-delete 'ip route del prohibit 10.0.2.2/32'
r route-add 'ip route add 192.0.2.0/24 dev lo'
r address-add 'ip addr add 10.9.9.9/32 dev lo'
r link-down 'ip link set tap0 down'
r sysctl-write 'echo 1 > /proc/sys/net/ipv4/ip_forward'
r sysctl-ping 'echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range'
r capabilities 'grep -Eq "^Cap(Prm|Eff|Bnd|Amb):[[:space:]]*0*[1-9a-f]" /proc/self/status'
r host-lo "timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${lo.port} && echo slot-attack >&3'"
r host-gw "timeout 3 bash -c 'exec 3<>/dev/tcp/10.0.2.2/${lo.port} && echo slot-attack >&3'"
r redis-lo "timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${redisPort} && printf \\"PING\\\\r\\\\n\\" >&3 && head -c5 <&3 | grep -q PONG'"
r redis-gw "timeout 3 bash -c 'exec 3<>/dev/tcp/10.0.2.2/${redisPort} && printf \\"PING\\\\r\\\\n\\" >&3 && head -c5 <&3 | grep -q PONG'"
${addrs.map((a) => `r any-via-${a} "timeout 3 bash -c 'exec 3<>/dev/tcp/${a}/${any.port} && echo slot-attack >&3'"`).join('\n')}
ip route show type prohibit | sed 's/^/ROUTE /'
if timeout 8 bash -c 'exec 3<>/dev/tcp/registry.npmjs.org/443'; then echo "OUTBOUND ok"; else echo "OUTBOUND failed"; fi
`;
      const b = await run(rt, dirs, script);
      assert.equal(b.code, 0, b.out);
      // The same slot network as job A's (else this proves nothing).
      assert.equal(netnsOf(b.out), slotNs, b.out);
      const results = attacks(b.out);
      const expected = [
        'tcp-lo',
        'tcp-any',
        'udp-lo',
        'abstract',
        'daemon',
        'killed',
        'gateway-of-a',
        'route-delete',
        'route-add',
        'address-add',
        'link-down',
        'sysctl-write',
        'sysctl-ping',
        'capabilities',
        'host-lo',
        'host-gw',
        'redis-lo',
        'redis-gw',
        ...addrs.map((a) => `any-via-${a}`),
      ];
      assert.deepEqual(Object.keys(results).sort(), expected.sort(), b.out);
      assert.deepEqual(
        Object.entries(results).filter(([, r]) => r === 'SUCCEEDED'),
        [],
        `attacks that worked:\n${b.out}`,
      );
      assert.deepEqual(lo.got, []);
      assert.deepEqual(any.got, []);
      // The walls are there, and outbound access works wherever this machine has it.
      assert.match(b.out, /ROUTE prohibit 10\.0\.2\.2 /);
      assert.match(b.out, /ROUTE prohibit 169\.254\.0\.0\/16 /);
      assert.match(b.out, hostOutbound ? /OUTBOUND ok/ : /OUTBOUND failed/);
    } finally {
      await rt.destroy();
    }
  });

  it('job C in the same slot: the gateway and a service work', async () => {
    const { rt, dirs } = await job();
    try {
      const gw = await rt.exposeGateway!(gatewaySocket);
      assert.ok(gw && 'url' in gw);
      const g = await run(
        rt,
        dirs,
        `echo "NETNS $(readlink /proc/self/ns/net)"; curl -sS --max-time 5 ${gw.url}`,
        true,
      );
      assert.equal(netnsOf(g.out), slotNs, g.out);
      assert.match(g.out, /gateway answers/);
      const svc = await start(
        rt,
        dirs,
        `exec socat TCP-LISTEN:41110,bind=127.0.0.1,fork,reuseaddr SYSTEM:'echo service answers'`,
      );
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        up = await rt.services!.listening(svc.step as StartedStep, 41110);
        if (!up) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(up, svc.output());
      await rt.services!.publish(svc.step, 41110);
      const s = await run(rt, dirs, 'timeout 5 socat -T2 -u TCP:127.0.0.1:41110 -');
      assert.match(s.out, /service answers/);
    } finally {
      await rt.destroy();
    }
  });

  it(
    'an address this machine gains during a job is walled off from its next step',
    { skip: process.getuid?.() === 0 ? false : 'adding an address to this machine needs root' },
    async () => {
      const { rt, dirs } = await job();
      const addr = `10.254.${process.pid % 250}.${1 + (Date.now() % 250)}`;
      try {
        const first = await run(rt, dirs, 'echo "NETNS $(readlink /proc/self/ns/net)"');
        assert.equal(netnsOf(first.out), slotNs, first.out);
        execFileSync('ip', ['addr', 'add', `${addr}/32`, 'dev', 'lo']);
        const late = await sentinel(addr).catch(async (e: Error) => {
          execFileSync('ip', ['addr', 'del', `${addr}/32`, 'dev', 'lo']);
          throw e;
        });
        try {
          // Control: it answers on this machine.
          assert.ok(await reachable(addr, late.port));
          const next = await run(
            rt,
            dirs,
            `${LIB}r new-address "timeout 3 bash -c 'exec 3<>/dev/tcp/${addr}/${late.port} && echo slot-attack >&3'"
ip route show type prohibit | sed 's/^/ROUTE /'`,
          );
          assert.deepEqual(attacks(next.out), { 'new-address': 'BLOCKED' }, next.out);
          assert.ok(next.out.includes(`ROUTE prohibit ${addr} `), next.out);
          assert.deepEqual(late.got, []);
        } finally {
          late.server.close();
          execFileSync('ip', ['addr', 'del', `${addr}/32`, 'dev', 'lo']);
        }
      } finally {
        await rt.destroy();
      }
    },
  );

  it('a slot whose holder died is replaced, walls and all, even within a job', async () => {
    const { rt, dirs } = await job();
    try {
      const before = await run(rt, dirs, 'echo "NETNS $(readlink /proc/self/ns/net)"');
      const ns = netnsOf(before.out)!;
      assert.ok(ns && ns !== readlinkSync('/proc/self/ns/net'), before.out);
      const holders = inNetwork(ns).filter((p) => /^sleep infinity$/.test(cmdline(p)));
      assert.equal(holders.length, 1, inNetwork(ns).map(cmdline).join('\n'));
      process.kill(holders[0]!, 'SIGKILL');
      for (let i = 0; i < 100 && inNetwork(ns).some((p) => p === holders[0]); i++)
        await new Promise((r) => setTimeout(r, 20));
      const after = await run(
        rt,
        dirs,
        `${LIB}echo "NETNS $(readlink /proc/self/ns/net)"; ip route show type prohibit | sed 's/^/ROUTE /'
r route-delete 'ip route del prohibit 10.0.2.2/32'`,
      );
      assert.equal(after.code, 0, after.out);
      assert.ok(netnsOf(after.out), after.out);
      assert.notEqual(netnsOf(after.out), ns, 'a new slot network');
      assert.notEqual(netnsOf(after.out), readlinkSync('/proc/self/ns/net'));
      assert.match(after.out, /ROUTE prohibit 10\.0\.2\.2 /);
      assert.deepEqual(attacks(after.out), { 'route-delete': 'BLOCKED' });
      // Nothing of the old slot is left running.
      for (let i = 0; i < 100 && inNetwork(ns).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(inNetwork(ns).map(cmdline), []);
    } finally {
      await rt.destroy();
    }
  });
});
