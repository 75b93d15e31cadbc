import { EventEmitter } from 'node:events';
import type { Logger } from './log.ts';
import { logErrors } from './log-errors.ts';
import { createRedis } from './queue/connection.ts';

/**
 * One subscription per process to the cluster's build events and log appends, fanned out to every
 * dashboard and log follower: `events` emits `event` with a build event's text, `logAppends` emits the
 * key of each job log lines were appended to. Its own connection, in the worker role: it waits for Redis
 * rather than failing fast, and works on a Cluster too.
 */
export async function subscribeLiveEvents(
  redisUrl: string,
  channels: { events: string; logAppends: string },
  log: Logger,
): Promise<{ events: EventEmitter; logAppends: EventEmitter; close(): Promise<unknown> }> {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const logAppends = new EventEmitter();
  logAppends.setMaxListeners(0);
  const subscriber = createRedis(redisUrl, 'worker', 'pushci-events');
  logErrors(subscriber, log, 'live events connection');
  await subscriber.subscribe(channels.events, channels.logAppends);
  subscriber.on('message', (channel: string, text: string) => {
    if (channel === channels.logAppends) logAppends.emit(text);
    else events.emit('event', text);
  });
  return {
    events,
    logAppends,
    close: () => subscriber.quit().catch(() => subscriber.disconnect()),
  };
}
