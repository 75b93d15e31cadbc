import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { ApiClient } from '../../api-client.ts';
import { ConfigError, UsageError } from '../../errors.ts';
import { didYouMean } from '../did-you-mean.ts';
import { followBuild } from '../../follow.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const trigger: Command = {
  name: 'trigger',
  summary: 'Starts a build of a pipeline for a branch or tag without a push (from a running server).',
  usage:
    '<pipeline> --branch B | --tag T [--sha S] [--repo owner/name] [--input NAME=VALUE]... [--follow] [--json]',
  flags: [
    { name: 'branch', type: 'string', value: 'B', doc: 'Build the head of this branch.' },
    { name: 'tag', type: 'string', value: 'T', doc: 'Build this tag.' },
    { name: 'sha', type: 'string', value: 'S', doc: 'Build this commit (of the branch or tag).' },
    {
      name: 'repo',
      type: 'string',
      value: 'owner/name',
      doc: 'The repository to build, when the pipeline’s repository is a pattern such as octo-org/*.',
    },
    {
      name: 'input',
      type: 'string',
      multiple: true,
      value: 'NAME=VALUE',
      doc: 'A value for one of the pipeline’s workflow_dispatch inputs (repeat for more); the server checks them.',
    },
    {
      name: 'follow',
      short: 'f',
      type: 'boolean',
      doc: 'Stream the logs until the build ends; exit code 1 unless it succeeded.',
    },
    JSON_FLAG,
  ],
  settings: true,
  async run({ values, args, config }) {
    const pipeline = args[0];
    if (!pipeline || (!values.branch && !values.tag))
      throw new UsageError(
        'usage: pushci trigger <pipeline> --branch B | --tag T [--sha S] [--repo owner/name] [--follow]',
      );
    const api = new ApiClient(config());
    const body = {
      ...(values.branch ? { branch: values.branch } : {}),
      ...(values.tag ? { tag: values.tag } : {}),
      ...(values.sha ? { sha: values.sha } : {}),
      ...(values.repo ? { repository: values.repo } : {}),
      ...(values.input ? { inputs: parseInputs(values.input as string[]) } : {}),
      // Who starts it, as pushci approve records it: the build's github.actor.
      by: userInfo().username,
    };
    const r = await api
      .json<{
        builds: Array<{ id: string; pipeline: string; number: number; url: string }>;
      }>(`/api/pipelines/${encodeURIComponent(pipeline)}/trigger`, {
        method: 'POST',
        body: JSON.stringify(body),
      })
      .catch((err: unknown) => {
        throw withSuggestion(err, pipeline);
      });
    const b = r.builds[0]!;
    if (values.json && !values.follow) console.log(JSON.stringify(b));
    else if (values.follow) console.error(`started ${b.pipeline}#${b.number} (${b.id})`);
    else {
      // The id alone on stdout, for scripts (id=$(pushci trigger …)); the words on stderr.
      console.error(`started ${b.pipeline}#${b.number}`);
      console.log(b.id);
    }
    return values.follow ? followBuild(api, b.id, { follow: true, json: Boolean(values.json) }) : 0;
  },
};

/** `--input name=value` flags as the trigger API's `inputs` (names and types are the server's to check). */
function parseInputs(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const at = f.indexOf('=');
    if (at <= 0) throw new UsageError(`--input ${f}: write --input NAME=VALUE`);
    out[f.slice(0, at)] = f.slice(at + 1);
  }
  return out;
}

/** A 404 that lists the pipelines, with the one the user most likely meant (by id or file stem). */
function withSuggestion(err: unknown, wanted: string): unknown {
  const listed = err instanceof ConfigError ? err.details?.pipelines : undefined;
  if (!(err instanceof ConfigError) || !Array.isArray(listed)) return err;
  const stem = (file: string) => basename(file).replace(/\.ya?ml$/, '');
  const known = (listed as Array<{ name: string; file: string }>).map((p) => ({ ...p, stem: stem(p.file) }));
  const meant = didYouMean(stem(wanted), [...new Set(known.flatMap((p) => [p.name, p.stem]))]);
  const targets = known.filter((p) => p.name === meant || p.stem === meant);
  return targets.length === 1
    ? new ConfigError(`${err.message}; did you mean pushci trigger ${targets[0]!.name}?`)
    : err;
}
