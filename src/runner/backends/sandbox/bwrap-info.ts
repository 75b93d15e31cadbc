import type { Readable } from 'node:stream';

/** The sandbox's pid (outside it) from bubblewrap's `--info-fd` JSON, as soon as it is there. */
export function readBwrapInfo(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      const pid = Number(/"child-pid"\s*:\s*(\d+)/.exec(text)?.[1]);
      if (pid > 0) resolve(pid);
      else reject(new Error('bubblewrap did not start the sandbox'));
    };
    stream.on('data', (c: Buffer) => {
      text += c.toString();
      if (/"child-pid"\s*:\s*\d+\s*[,}]/.test(text)) done();
    });
    stream.once('end', done);
    stream.once('error', done);
  });
}
