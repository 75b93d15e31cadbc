import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.ts';
import { embeddedPaths, redisAccepts, startEmbeddedRedis } from '../../src/redis/embedded.ts';
import { isAlive as alive } from '../helpers/process.ts';

describe('the embedded Redis after a crash left stale files behind', () => {
  it('starts cleanly: a reused pid is not killed, a taken port is not used, the data is kept', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pushci-stale-'));
    const p = embeddedPaths(data);
    const log = createLogger('silent');

    // A first life: some data, then the serve "crashes" and its Redis is gone too (say, a reboot).
    const first = await startEmbeddedRedis(data, log);
    const password = readFileSync(p.password, 'utf8');
    const firstState = JSON.parse(readFileSync(p.state, 'utf8')) as { port: number };
    const c1 = new Redis(first.url);
    await c1.set('pushci:kept', 'yes');
    c1.disconnect();
    await first.stop();

    // What the crash left: a pid file naming a pid that now belongs to another program, and a state
    // file naming a port another program now listens on.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    const squatter = net.createServer((s) => s.end('not redis\r\n'));
    await new Promise<void>((r) => squatter.listen(firstState.port, '127.0.0.1', r));
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(p.pid, `${other.pid}\n`);
    try {
      const second = await startEmbeddedRedis(data, log);
      const state = JSON.parse(readFileSync(p.state, 'utf8')) as { port: number; pid: number };
      assert.ok(alive(other.pid!), 'the unrelated process the stale pid file named is untouched');
      assert.notEqual(state.port, firstState.port, 'the taken port was not used');
      assert.equal(readFileSync(p.password, 'utf8'), password, 'the same password');
      assert.ok(await redisAccepts(state.port, password));
      assert.equal(second.url, `redis://:${password}@127.0.0.1:${state.port}`);
      const c2 = new Redis(second.url);
      assert.equal(await c2.get('pushci:kept'), 'yes', 'what was written before the crash is there');
      c2.disconnect();
      await second.stop();
      assert.ok(!(await redisAccepts(state.port, password)), 'stop() stops it');
    } finally {
      other.kill('SIGKILL');
      squatter.close();
    }
  });
});
