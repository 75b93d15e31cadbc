import type { Command } from '../command.ts';

export const serve: Command = {
  name: 'serve',
  summary: 'The HTTP receiver and API, plus workers unless --no-worker.',
  usage: '[--no-worker] [setting flags]',
  details:
    'Without REDIS_URL it starts its own redis-server under the data directory. SIGTERM lets running\njobs finish for PUSHCI_SHUTDOWN_GRACE_MS.',
  flags: [
    { name: 'no-worker', type: 'boolean', doc: 'Receive and serve only; run no jobs in this process.' },
  ],
  settings: true,
  // Imported when it runs: the server's modules are most of what `pushci <anything> --help` would load.
  run: async ({ values, config }) =>
    (await import('./run-server.ts')).runServer(config(), { http: true, worker: !values['no-worker'] }),
};
