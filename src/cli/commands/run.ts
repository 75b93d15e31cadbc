import { UsageError } from '../../errors.ts';
import type { Command } from '../command.ts';

/** `--event`: the events a local run can stand for. */
function runEvent(value: unknown): 'push' | 'pull_request' {
  if (value === undefined || value === 'push' || value === 'pull_request') return value ?? 'push';
  throw new UsageError(`--event must be push or pull_request, not ${String(value)}`);
}

export const run: Command = {
  name: 'run',
  summary:
    'Runs a pipeline on the working tree (uncommitted changes included) in the same sandbox, without a server; exit code 1 unless it succeeds.',
  usage: '[pipeline] [--job J] [--event push|pull_request] [--target B] [--repo owner/name]',
  details:
    'pipeline may be left out when PUSHCI_PIPELINES holds one. Nothing is sent: no notify receivers, endpoints or commit statuses. Ctrl-C cancels the build.',
  flags: [
    { name: 'job', type: 'string', value: 'J', doc: 'Run only this job (without the jobs it needs).' },
    {
      name: 'event',
      type: 'string',
      value: 'push|pull_request',
      doc: 'The event the build stands for (default push of the current branch).',
    },
    {
      name: 'target',
      type: 'string',
      value: 'B',
      doc: 'The target branch of --event pull_request (default main).',
    },
    {
      name: 'repo',
      type: 'string',
      value: 'owner/name',
      doc: 'The repository the working tree stands for, when the pipeline’s repository is a pattern such as octo-org/*.',
    },
  ],
  settings: true,
  async run({ values, args, config }) {
    if (args.length > 1) throw new UsageError('usage: pushci run [pipeline] [--job J]');
    const event = runEvent(values.event);
    const [{ runLocal }, { createLogger }] = await Promise.all([
      import('../../local-run/run-local.ts'),
      import('../../log.ts'),
    ]);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      return await runLocal(config(), {
        pipeline: args[0],
        job: values.job as string | undefined,
        event,
        target: values.target as string | undefined,
        repo: values.repo as string | undefined,
        cwd: process.cwd(),
        out: process.stdout,
        err: process.stderr,
        log: createLogger('warn', process.stderr),
        signal: stop.signal,
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
