import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

/**
 * The ceiling for any Node receiver: verify the HMAC of the raw body and parse the JSON, nothing else.
 * Run as its own process so it gets a core of its own, like pushci's receiver.
 */
const secret = process.env.SECRET!;
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
    JSON.parse(body.toString('utf8'));
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"builds":[]}');
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
