import { writeFile } from 'node:fs/promises';
import { pipelineJsonSchema } from '../../pipelines/schema.ts';
import type { Command } from '../command.ts';

export const schema: Command = {
  name: 'schema',
  summary: 'Prints (or writes) the JSON Schema of pipeline files, for editors.',
  usage: '[file]',
  flags: [],
  settings: false,
  async run({ args }) {
    const text = `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
    if (args[0]) await writeFile(args[0], text);
    else process.stdout.write(text);
    return 0;
  },
};
