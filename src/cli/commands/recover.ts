import { parseDuration } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const recover: Command = {
  name: 'recover',
  summary: "Asks GitHub to redeliver pushci's failed deliveries (GitHub never retries by itself).",
  usage: '[--since 2h] [--repo owner/name]... [--hook-id N] [--json]',
  details:
    'Needs GITHUB_TOKEN. Repositories default to those of the GitHub pipelines; exit code 1 when one\ncould not be checked.',
  flags: [
    { name: 'since', type: 'string', value: 'DURATION', doc: 'How far back to look (default 2h).' },
    { name: 'repo', type: 'string', multiple: true, value: 'owner/name', doc: 'A repository to check.' },
    {
      name: 'hook-id',
      type: 'string',
      value: 'N',
      doc: "The hook's id, when the repository has several for pushci's URL.",
    },
    JSON_FLAG,
  ],
  settings: true,
  async run({ values, config }) {
    const c = config();
    if (!c.githubToken)
      throw new ConfigError(
        'pushci recover needs GITHUB_TOKEN (a token that can read and redeliver repository hooks)',
      );
    const since = new Date(Date.now() - parseDuration(String(values.since ?? '2h')));
    const [{ GithubClient }, { githubRepositories, recoverDeliveries }, { loadPipelines }] =
      await Promise.all([
        import('../../forges/github/api-client.ts'),
        import('../../forges/github/recover.ts'),
        import('../../pipelines/load.ts'),
      ]);
    let repos = (values.repo as string[] | undefined) ?? [];
    if (repos.length === 0)
      repos = githubRepositories((await loadPipelines(c.pipelinesDir, c.env)).pipelines);
    if (repos.length === 0) throw new ConfigError('no repository to recover: give --repo owner/name');
    const client = new GithubClient(c.githubApiUrl, c.githubToken);
    const hookUrl = `${c.publicUrl}/webhooks/github`;
    const hookId = values['hook-id'] === undefined ? undefined : Number(values['hook-id']);
    const reports = [];
    for (const repo of repos) reports.push(await recoverDeliveries(client, repo, hookUrl, since, hookId));
    if (values.json) console.log(JSON.stringify(reports, null, 2));
    else
      for (const r of reports) {
        if (r.problem) {
          console.log(`${r.repository}: ${r.problem}`);
          continue;
        }
        console.log(
          `${r.repository}: ${r.redelivered.length} failed delivery(ies) since ${since.toISOString()} asked to be delivered again`,
        );
        for (const d of r.redelivered)
          console.log(`  ${d.guid} ${d.event} (last answer ${d.last_status || 'none'} at ${d.delivered_at})`);
      }
    return reports.some((r) => r.problem) ? 1 : 0;
  },
};
