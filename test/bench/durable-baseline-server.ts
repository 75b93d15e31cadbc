import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

/**
 * The floor for any receiver that promises "a 2xx means the push is stored": verify the HMAC, parse
 * the JSON, and store the delivery in Redis in one atomic round trip (a de-duplication key on the
 * delivery id, one record of the push's fields, one index entry) before answering. What pushci does
 * beyond this (matching pipelines, numbering builds, queueing the job in BullMQ, telling dashboards) is
 * its own cost; this server measures what durability alone costs on the same machine and Redis.
 */
const STORE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 86400000) == false then return 0 end
redis.call('HSET', KEYS[2], 'push', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1`;

const secret = process.env.SECRET!;
const prefix = process.env.PREFIX!;
const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
redis.defineCommand('store', { numberOfKeys: 3, lua: STORE });
const store = (redis as Redis & { store(...a: string[]): Promise<number> }).store.bind(redis);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const sig = String(req.headers['x-hub-signature-256'] ?? '');
    const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    if (sig.length !== want.length || !timingSafeEqual(Buffer.from(sig), want)) {
      res.writeHead(401).end();
      return;
    }
    const p = JSON.parse(body.toString('utf8'));
    const delivery = String(req.headers['x-github-delivery']);
    const push = JSON.stringify({
      repository: p.repository?.full_name,
      ref: p.ref,
      before: p.before,
      after: p.after,
      message: p.head_commit?.message,
      pusher: p.pusher?.name,
      delivery,
    });
    store(
      `${prefix}:seen:${delivery}`,
      `${prefix}:push:${delivery}`,
      `${prefix}:pushes`,
      delivery,
      push,
      String(Date.now()),
    )
      .then((created) => {
        res.writeHead(created ? 202 : 200, { 'content-type': 'application/json' }).end('{"stored":true}');
      })
      .catch(() => res.writeHead(503).end());
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
