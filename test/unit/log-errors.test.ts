import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { logErrors } from '../../src/log-errors.ts';

describe('logErrors', () => {
  it('logs each distinct error once per period, at warn, with what failed', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const emitter = new EventEmitter();
    logErrors(emitter, createLogger('info', sink), 'jobs queue');
    for (let i = 0; i < 5; i++) emitter.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6390'));
    emitter.emit('error', new Error('NOAUTH Authentication required.'));
    assert.deepEqual(
      lines.map((l) => [l.level, l.what, l.err]),
      [
        [40, 'jobs queue', 'connect ECONNREFUSED 127.0.0.1:6390'],
        [40, 'jobs queue', 'NOAUTH Authentication required.'],
      ],
    );
  });
});
