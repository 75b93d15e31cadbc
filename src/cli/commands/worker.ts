import type { Command } from '../command.ts';

export const worker: Command = {
  name: 'worker',
  summary: 'Workers only: run as many as you like, on any machine that reaches the Redis.',
  usage: '[setting flags]',
  details: 'In the folder of a running pushci serve without REDIS_URL, a worker joins its embedded Redis.',
  flags: [],
  settings: true,
  run: async ({ config }) =>
    (await import('./run-server.ts')).runServer(config(), { http: false, worker: true }),
};
