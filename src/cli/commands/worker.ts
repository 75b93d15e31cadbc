import type { Command } from '../command.ts';
import { runServer } from './run-server.ts';

export const worker: Command = {
  name: 'worker',
  summary: 'Workers only: run as many as you like, on any machine that reaches the Redis.',
  usage: '[setting flags]',
  details: 'In the folder of a running pushci serve without REDIS_URL, a worker joins its embedded Redis.',
  flags: [],
  settings: true,
  run: ({ config }) => runServer(config(), { http: false, worker: true }),
};
