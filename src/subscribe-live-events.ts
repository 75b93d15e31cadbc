import { EventEmitter } from 'node:events';
import type { Logger } from './log.ts';
import { logErrors } from './log-errors.ts';
import { createRedis } from './queue/connection.ts';

/**
 * One subscription per process to the cluster's build events, fanned out to every dashboard through
 * the returned emitter (`event` with the message's text). Its own connection, in the worker role: it
 * waits for Redis rather than failing fast, and works on a Cluster too.
 */
export async function subscribeLiveEvents(
  redisUrl: string,
  channel: string,
  log: Logger,
): Promise<{ events: EventEmitter; close(): Promise<unknown> }> {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const subscriber = createRedis(redisUrl, 'worker', 'pushci-events');
  logErrors(subscriber, log, 'live events connection');
  await subscriber.subscribe(channel);
  subscriber.on('message', (_channel: string, text: string) => events.emit('event', text));
  return { events, close: () => subscriber.quit().catch(() => subscriber.disconnect()) };
}
