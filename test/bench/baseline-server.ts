import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

/**
 * The baselines intake is measured against, each run as its own process so it gets a core of its own,
 * like pushci's receiver.
 *
 * - bare (no REDIS_URL): verify the HMAC of the raw body and parse the JSON, nothing else. The ceiling
 *   for any Node receiver.
 * - durable (REDIS_URL and PREFIX set): the same, then store the delivery in Redis in one atomic round
 *   trip (a de-duplication key on the delivery id, one record of the push's fields, one index entry)
 *   before answering. The floor for any receiver that promises "a 2xx means the push is stored": what
 *   pushci does beyond it (matching pipelines, numbering builds, queueing the job in BullMQ, telling
 *   dashboards) is its own cost.
 */
const STORE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 86400000) == false then return 0 end
redis.call('HSET', KEYS[2], 'push', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1`;

type Store = (delivery: string, push: Record<string, unknown>) => Promise<boolean>;

async function redisStore(url: string, prefix: string): Promise<Store> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  redis.defineCommand('store', { numberOfKeys: 3, lua: STORE });
  const store = (redis as unknown as { store(...a: string[]): Promise<number> }).store.bind(redis);
  return async (delivery, p) =>
    (await store(
      `${prefix}:seen:${delivery}`,
      `${prefix}:push:${delivery}`,
      `${prefix}:pushes`,
      delivery,
      JSON.stringify(p),
      String(Date.now()),
    )) === 1;
}

const secret = process.env.SECRET!;
const store = process.env.REDIS_URL ? await redisStore(process.env.REDIS_URL, process.env.PREFIX!) : null;

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
    if (!store) {
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"builds":[]}');
      return;
    }
    const delivery = String(req.headers['x-github-delivery']);
    const push = {
      repository: p.repository?.full_name,
      ref: p.ref,
      before: p.before,
      after: p.after,
      message: p.head_commit?.message,
      pusher: p.pusher?.name,
      delivery,
    };
    store(delivery, push).then(
      (created) => res.writeHead(created ? 202 : 200, { 'content-type': 'application/json' }).end('{}'),
      () => res.writeHead(503).end(),
    );
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
