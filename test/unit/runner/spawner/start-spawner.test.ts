import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startSpawner, type Spawned } from '../../../../src/runner/spawner/start-spawner.ts';
import { isAlive as alive } from '../../../helpers/process.ts';

const SPAWNER = join(import.meta.dirname, '../../../../src/runner/spawner/start-spawner.ts');

/** A stand-in worker: a Node process that imports startSpawner, then runs `body` (an ES module's text). */
const startWorker = (body: string, stdio: StdioOptions = ['ignore', 'pipe', 'inherit']) =>
  spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { startSpawner } = await import(${JSON.stringify(SPAWNER)});\n${body}`,
    ],
    { stdio },
  );

/** Waits up to 10 s for the processes to end; returns those still alive. */
async function stillAlive(pids: number[]): Promise<number[]> {
  const t0 = Date.now();
  while (pids.some(alive) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

const env = { PATH: process.env.PATH! };
const read = (s: Spawned['stdout']) =>
  new Promise<string>((resolve) => {
    let t = '';
    s!.on('data', (c: Buffer) => (t += c.toString()));
    s!.once('end', () => resolve(t));
  });
const exited = (p: Spawned) =>
  new Promise<[number | null, string | null]>((r) => p.once('exit', (c, s) => r([c, s])));

describe('startSpawner', () => {
  const sp = startSpawner(env);
  after(() => sp.close());

  it('runs a program with the given environment and folder, its pipes reach the caller', async () => {
    const p = await sp('sh', ['-c', 'echo "out $FOO $(pwd)"; echo err >&2; echo three >&3; exit 7'], {
      env: { ...env, FOO: 'bar' },
      cwd: '/tmp',
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    assert.ok(p.pid > 0);
    const [out, err, three, code] = await Promise.all([
      read(p.stdout),
      read(p.stderr),
      read(p.stdio[3]!),
      exited(p),
    ]);
    assert.equal(out, 'out bar /tmp\n');
    assert.equal(err, 'err\n');
    assert.equal(three, 'three\n');
    assert.deepEqual(code, [7, null]);
  });

  it('writes to a program through its stdin, and loses no output written before the caller reads', async () => {
    const p = await sp('sh', ['-c', 'seq 1 20000; cat'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out = read(p.stdout);
    p.stdin!.end('from the caller\n');
    const text = await out;
    assert.equal(text.split('\n').length, 20002);
    assert.match(text, /^1\n2\n[\s\S]*20000\nfrom the caller\n$/);
  });

  it('kills a program with the signal asked for, and says so on exit', async () => {
    const p = await sp('sleep', ['100'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    const done = exited(p);
    assert.ok(p.kill('SIGTERM'));
    assert.deepEqual(await done, [null, 'SIGTERM']);
    assert.equal(alive(p.pid), false);
  });

  it('reports a program that does not exist as an error, and goes on starting others', async () => {
    const p = await sp('/nonexistent/pushci-no-such-program', [], { env, stdio: ['ignore', 'pipe'] });
    const err = await new Promise<Error>((r) => p.once('error', r));
    assert.match(err.message, /ENOENT/);
    const q = await sp('true', [], { env, stdio: ['ignore', 'ignore'] });
    assert.deepEqual(await exited(q), [0, null]);
  });

  it('hands a program no descriptor but its own: no socket beyond the pipes it asked for', async () => {
    const p = await sp('sh', ['-c', 'for f in /proc/$$/fd/*; do echo "${f##*/} $(readlink "$f")"; done'], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const fds = (await read(p.stdout)).trim().split('\n');
    const sockets = fds.filter((l) => / socket:/.test(l)).map((l) => Number(l.split(' ')[0]));
    // Control: its stdout is a socket, so a leaked channel (also a socket) would show here too.
    assert.deepEqual(sockets, [1], fds.join('\n'));
  });

  it('hands no program a descriptor the worker inherited from whoever started pushci', async () => {
    // The worker gets a pipe at fd 40 without close-on-exec, as from a launcher's `exec 40>…`; its own
    // children (the control, started directly) inherit it, the spawner's programs must not.
    const worker = startWorker(
      `         const { spawnSync } = await import('node:child_process');
         const list = 'for f in /proc/$$/fd/*; do echo "\${f##*/} $(readlink "$f")"; done';
         const direct = spawnSync('sh', ['-c', list]).stdout.toString();
         const sp = startSpawner({ PATH: process.env.PATH });
         const p = await sp('sh', ['-c', list], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'ignore'] });
         let out = '';
         p.stdout.on('data', (c) => (out += c));
         p.stdout.on('end', () => { console.log(JSON.stringify({ direct, spawned: out })); sp.close(); });`,
      ['ignore', 'pipe', 'inherit', ...Array<'ignore'>(37).fill('ignore'), 'pipe'],
    );
    const text = await new Promise<string>((resolve) => {
      let t = '';
      worker.stdout!.on('data', (c: Buffer) => (t += c.toString()));
      worker.once('close', () => resolve(t));
    });
    const { direct, spawned } = JSON.parse(text) as { direct: string; spawned: string };
    const fds = (l: string) =>
      l
        .trim()
        .split('\n')
        .map((x) => Number(x.split(' ')[0]));
    assert.ok(fds(direct).includes(40), `control: the worker's own child has fd 40\n${direct}`);
    assert.ok(!fds(spawned).includes(40), spawned);
  });

  it('ends with its worker: a killed worker leaves neither the spawner nor its programs', async () => {
    const worker = startWorker(
      `const sp = startSpawner({ PATH: process.env.PATH });
         const p = await sp('sleep', ['1000'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore'] });
         console.log(p.pid);
         setInterval(() => {}, 1000);`,
    );
    const sleepPid = Number(
      await new Promise<string>((r) => worker.stdout!.once('data', (d) => r(String(d)))),
    );
    assert.ok(alive(sleepPid));
    const spawnerPid = Number(readFileSync(`/proc/${sleepPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    assert.match(readFileSync(`/proc/${spawnerPid}/cmdline`, 'utf8'), /spawner-main/);
    worker.kill('SIGKILL');
    const left = await stillAlive([sleepPid, spawnerPid]);
    assert.equal(left.includes(sleepPid), false, 'the program ended');
    assert.equal(left.includes(spawnerPid), false, 'the spawner ended');
  });

  it('lets a worker end by itself while a program it unref-ed runs, which then ends with it', async () => {
    // A slot network's holder and slirp4netns live as long as the worker: they must not keep it alive.
    const worker = startWorker(
      `const sp = startSpawner({ PATH: process.env.PATH });
         const p = await sp('sleep', ['1002'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
         p.stdout.resume();
         p.unref();
         console.log(p.pid);`,
    );
    const sleepPid = Number(
      await new Promise<string>((r) => worker.stdout!.once('data', (d) => r(String(d)))),
    );
    assert.ok(sleepPid > 0);
    const code = await new Promise<number | null>((r) => worker.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.deepEqual(await stillAlive([sleepPid]), [], 'the program ended with the worker');
  });

  it('ends with a worker killed while a pipe was being handed over to it', async () => {
    // The worker asks for a program with a pipe and then never turns its event loop again, so it never
    // acknowledges the pipe's handle: the spawner's handover is pending when the worker is killed.
    const worker = startWorker(
      `const sp = startSpawner({ PATH: process.env.PATH });
         sp('sleep', ['1001'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe'] });
         console.log('asked');
         for (;;);`,
    );
    await new Promise((r) => worker.stdout!.once('data', r));
    const childrenOf = (pid: number) =>
      readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    let spawnerPid = 0;
    let sleepPid = 0;
    const t0 = Date.now();
    while (!sleepPid && Date.now() - t0 < 10_000) {
      spawnerPid = childrenOf(worker.pid!)[0] ?? 0;
      if (spawnerPid) sleepPid = childrenOf(spawnerPid)[0] ?? 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(readFileSync(`/proc/${spawnerPid}/cmdline`, 'utf8'), /spawner-main/);
    assert.match(readFileSync(`/proc/${sleepPid}/cmdline`, 'utf8'), /^sleep\0/);
    // Let the handover start before the kill.
    await new Promise((r) => setTimeout(r, 200));
    worker.kill('SIGKILL');
    const left = await stillAlive([spawnerPid, sleepPid]);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    assert.deepEqual(left, [], 'neither the spawner nor its program outlived the worker');
  });
});
