import type { Command } from '../command.ts';

export const validate: Command = {
  name: 'validate',
  summary: 'Checks pipeline files; prints every problem as file:line:col: message; exit code 1 when any.',
  usage: '[dir]',
  details: 'dir defaults to PUSHCI_PIPELINES (./pipelines).',
  flags: [],
  settings: true,
  async run({ args, config }) {
    const c = config();
    const dir = args[0] ?? c.pipelinesDir;
    const [{ loadPipelines }, { formatDiagnostic }] = await Promise.all([
      import('../../pipelines/load.ts'),
      import('../../pipelines/diagnostic.ts'),
    ]);
    const { pipelines, diagnostics } = await loadPipelines(dir, c.env);
    for (const d of diagnostics) console.log(formatDiagnostic(d));
    if (diagnostics.length > 0) {
      console.error(`${diagnostics.length} problem(s) in ${dir}`);
      return 1;
    }
    console.log(`${pipelines.length} pipeline(s) valid: ${pipelines.map((p) => p.name).join(', ')}`);
    return 0;
  },
};
