import type { Command } from '../command.ts';

export const doctor: Command = {
  name: 'doctor',
  summary: 'Checks Redis, git, the sandbox, pipelines, secrets and the public URL; exit code 1 on a failure.',
  usage: '[setting flags]',
  flags: [],
  settings: true,
  async run({ config }) {
    const { doctor: runDoctor } = await import('../../onboarding/doctor.ts');
    const checks = await runDoctor(config());
    for (const c of checks)
      console.log(`${{ ok: '✔', warn: '!', fail: '✘' }[c.status]} ${c.name.padEnd(16)} ${c.detail}`);
    return checks.some((c) => c.status === 'fail') ? 1 : 0;
  },
};
