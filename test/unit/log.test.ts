import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLog } from '../helpers/capture-log.ts';

const capture = () => captureLog('info');
const flush = () => new Promise((r) => setImmediate(r));

describe('createLogger: secrets never reach a log line', () => {
  it('redacts secret, token and env, one level down, and the signature headers, leaving the rest', async () => {
    const { log, lines } = capture();
    const fields = {
      secret: 's1',
      token: 't1',
      env: { A: 'x' },
      endpoint: { url: 'http://e', secret: 's2', token: 't2' },
      headers: {
        authorization: 'Bearer t3',
        'x-gitlab-token': 't4',
        'x-hub-signature-256': 'sha256=ab',
        'x-hub-signature': 'sha1=ab',
        'webhook-signature': 'v1,ab',
        'x-github-event': 'push',
      },
      job: { name: 'j', env: { B: 'y' } },
      build_id: 'b1',
    };
    log.info(fields, 'with secrets');
    await flush();
    const line = lines.at(-1)!;
    assert.equal(line.msg, 'with secrets');
    assert.equal(line.build_id, 'b1');
    assert.equal(line.secret, '[redacted]');
    assert.equal(line.token, '[redacted]');
    assert.equal(line.env, '[redacted]');
    assert.deepEqual(line.endpoint, { url: 'http://e', secret: '[redacted]', token: '[redacted]' });
    assert.equal(line.headers['x-github-event'], 'push');
    for (const h of [
      'authorization',
      'x-gitlab-token',
      'x-hub-signature-256',
      'x-hub-signature',
      'webhook-signature',
    ])
      assert.equal(line.headers[h], '[redacted]', h);
    assert.deepEqual(line.job, { name: 'j', env: '[redacted]' });
    assert.ok(!JSON.stringify(line).match(/s1|s2|t1|t2|t3|t4|sha256=ab|sha1=ab|v1,ab/));
    // The caller's object is left as it was.
    assert.equal(fields.endpoint.secret, 's2');
    assert.equal(fields.headers.authorization, 'Bearer t3');
  });

  it('redacts child bindings, and keeps an error with a secret field readable', async () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('it broke'), { token: 't5', code: 'E1' });
    log.child({ req_id: 'r1' }).child({ token: 't6', job: 'j' }).error({ err }, 'failed');
    await flush();
    const line = lines.at(-1)!;
    assert.equal(line.token, '[redacted]');
    assert.equal(line.req_id, 'r1');
    assert.equal(line.job, 'j');
    assert.equal(line.err.message, 'it broke');
    assert.match(line.err.stack, /it broke/);
    assert.equal(line.err.code, 'E1');
    assert.equal(line.err.token, '[redacted]');
    assert.ok(!JSON.stringify(line).match(/t5|t6/));
  });

  it('logs a line without secrets as it is', async () => {
    const { log, lines } = capture();
    const err = new Error('plain');
    log.info({ build_id: 'b2', pipeline: 'p', status: 'queued' }, 'build created');
    log.error({ err }, 'oops');
    await flush();
    assert.deepEqual(
      { build_id: lines[0]!.build_id, pipeline: lines[0]!.pipeline, status: lines[0]!.status },
      { build_id: 'b2', pipeline: 'p', status: 'queued' },
    );
    assert.equal(lines[1]!.err.message, 'plain');
    assert.equal(lines[1]!.err.type, 'Error');
  });
});
