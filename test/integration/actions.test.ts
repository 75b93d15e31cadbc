import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { buildEnded } from '../helpers/push-build.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, post, sendGithub } from '../helpers/payloads.ts';
import { spawnPushci } from '../helpers/process.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const TOKEN = 'api-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('cancel, rerun and manual trigger', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  const marker = `sleep-${randomUUID().slice(0, 6)}`;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': '1' }]);
    repo.git('branch', 'feature/x');
    repo.git('tag', 'v1.0');
    server = await startServer(
      redis,
      {
        'long.yml': `name: long\nrepository: octo-org/long\nclone-url: ${repo.dir}\non: push\njobs:\n  wait:\n    steps:\n      - run: |\n          bash -c 'exec -a ${marker} sleep 1000' &\n          sleep 1000\n  after:\n    needs: wait\n    steps:\n      - run: 'true'\n`,
        'org.yml': `name: prod\nrepository: octo-org/*\nclone-url: ${repo.dir}\non: push\nenv:\n  DEPLOY_KEY: prod-secret\njobs:\n  a:\n    steps:\n      - run: 'true'\n`,
        'quick.yml': `name: quick\nrepository: octo-org/quick\nclone-url: ${repo.dir}\non: push\njobs:\n  a:\n    steps:\n      - run: test "$CI_COMMIT_SHA" = "$(git rev-parse HEAD)"\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: TOKEN, PUSHCI_KILL_GRACE_MS: '300' },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  const final = (id: string) => buildEnded(server, id, 30_000);

  it('refuses the API without the token', async () => {
    const r = await fetch(`${server.base}/api/builds/x`);
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: string }).error, 'unauthorized');
  });

  it('cancels a running build, kills its processes, and skips what came after', async () => {
    const res = await sendGithub(
      server.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: 'octo-org/long' }),
      's',
    );
    const id = res.json.builds[0].id as string;
    await waitFor(
      () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(marker),
      15_000,
      'the step to start',
    );
    const c = await post(`${server.base}/api/builds/${id}/cancel`, '', auth);
    assert.equal(c.status, 202, c.text);
    const v = await final(id);
    assert.equal(v.status, 'canceled');
    assert.equal(v.reason, 'canceled through the API');
    assert.deepEqual(
      v.jobs.map((j) => j.status),
      ['canceled', 'canceled'],
    );
    assert.ok(
      !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(marker),
      'the step processes are gone',
    );
    const again = await post(`${server.base}/api/builds/${id}/cancel`, '', auth);
    assert.equal(again.status, 409);
    assert.equal(again.json.error, 'conflict');
  });

  it('reruns a finished build as a new build of the same commit', async () => {
    const res = await sendGithub(
      server.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: 'octo-org/quick' }),
      's',
    );
    const first = await final(res.json.builds[0].id);
    const r = await post(`${server.base}/api/builds/${first.id}/rerun`, '', auth);
    assert.equal(r.status, 202, r.text);
    const second = await final(r.json.builds[0].id);
    assert.notEqual(second.id, first.id);
    assert.equal(second.sha, first.sha);
    assert.equal(second.event, 'rerun');
    assert.equal(second.number, first.number + 1);
    assert.equal(second.status, 'success');
  });

  it('triggers a pipeline for a branch or tag, resolving the commit from the repository', async () => {
    for (const body of [{ branch: 'feature/x', repository: 'octo-org/quick' }, { tag: 'v1.0' }]) {
      const r = await post(`${server.base}/api/pipelines/quick/trigger`, JSON.stringify(body), auth);
      assert.equal(r.status, 202, r.text);
      const v = await final(r.json.builds[0].id);
      assert.equal(v.status, 'success');
      assert.equal(v.sha, repo.commits[0]);
      assert.equal(v.event, 'manual');
    }
    const missing = await post(
      `${server.base}/api/pipelines/quick/trigger`,
      JSON.stringify({ branch: 'nope' }),
      auth,
    );
    assert.equal(missing.status, 400);
    assert.match(missing.json.message, /does not exist/);
    const bad = await post(
      `${server.base}/api/pipelines/quick/trigger`,
      JSON.stringify({ branch: '--upload-pack=evil' }),
      auth,
    );
    assert.equal(bad.status, 400);
    const unknown = await post(`${server.base}/api/pipelines/nope/trigger`, '{"branch":"main"}', auth);
    assert.equal(unknown.status, 404);
    // What a newcomer types: the file name. It names the pipeline when only one file fits.
    const byFile = await post(`${server.base}/api/pipelines/quick.yml/trigger`, '{"tag":"v1.0"}', auth);
    assert.equal(byFile.status, 202, byFile.text);
    assert.equal(byFile.json.builds[0].pipeline, 'quick');
    // The path as GET /api/pipelines shows it, slashes and all.
    const listed = (await (await fetch(`${server.base}/api/pipelines`, { headers: auth })).json()) as {
      pipelines: Array<{ name: string; file: string }>;
    };
    const file = listed.pipelines.find((p) => p.name === 'quick')!.file;
    assert.match(file, /\/quick\.yml$/);
    const byPath = await post(
      `${server.base}/api/pipelines/${encodeURIComponent(file)}/trigger`,
      '{"tag":"v1.0"}',
      auth,
    );
    assert.equal(byPath.status, 202, `${file}: ${byPath.text}`);
    assert.equal(byPath.json.builds[0].pipeline, 'quick');
    // Otherwise the 404 says which pipelines exist.
    const typo = await post(`${server.base}/api/pipelines/qiuck/trigger`, '{"branch":"main"}', auth);
    assert.equal(typo.status, 404);
    assert.equal(typo.json.error, 'not_found');
    assert.match(typo.json.message, /no pipeline "qiuck"; the pipelines are: long \(.*long\.yml\), prod/);
    assert.deepEqual(
      typo.json.pipelines.map((p: { name: string }) => p.name),
      ['long', 'prod', 'quick'],
    );
  });

  it('triggers only repositories the pipeline is for, by valid name (its secrets go with the build)', async () => {
    const trigger = (repository: unknown) =>
      post(`${server.base}/api/pipelines/prod/trigger`, JSON.stringify({ branch: 'main', repository }), auth);
    const prodBuilds = async () =>
      (
        (await (await fetch(`${server.base}/api/builds?pipeline=prod`, { headers: auth })).json()) as {
          builds: BuildView[];
        }
      ).builds.map((b) => b.id);
    const before = await prodBuilds();
    for (const evil of [
      'attacker/evil',
      'octo-org/../attacker/evil',
      'octo-org/..',
      'https://evil.example/octo-org/app',
      'octo-org/app:x',
      '-oProxyCommand=evil/x',
      'octo-org/-x',
      'octo-org/.hidden',
      'octo-org',
      'octo-org/app/../../attacker/evil',
      42,
    ]) {
      const r = await trigger(evil);
      assert.equal(r.status, 400, `${String(evil)}: ${r.text}`);
      assert.equal(r.json.error, 'invalid_request');
    }
    assert.deepEqual(await prodBuilds(), before, 'nothing was built');
    const ok = await trigger('octo-org/app');
    assert.equal(ok.status, 202, ok.text);
    const v = await final(ok.json.builds[0].id);
    assert.equal(v.repository, 'octo-org/app');
    assert.equal(v.status, 'success');
  });

  it('pushci trigger of a pipeline for a pattern of repositories says to name one, and --repo builds it', async () => {
    const cli = async (args: string[]) => {
      const p = spawnPushci(args, { PUSHCI_URL: server.base, PUSHCI_API_TOKEN: TOKEN });
      const code = await p.exited;
      return { code, out: p.output.join('') };
    };
    const typo = await cli(['trigger', 'qiuck.yml', '--tag', 'v1.0']);
    assert.equal(typo.code, 1, typo.out);
    assert.match(
      typo.out,
      /404: no pipeline "qiuck\.yml"; the pipelines are: .*; did you mean pushci trigger quick\?/,
    );
    const stem = await cli(['trigger', 'org', '--branch', 'main', '--repo', 'octo-org/cli', '--json']);
    assert.equal(stem.code, 0, stem.out);
    assert.equal(JSON.parse(stem.out).pipeline, 'prod', 'the file org.yml holds pipeline prod');
    const bare = await cli(['trigger', 'prod', '--branch', 'main']);
    assert.equal(bare.code, 1, bare.out);
    assert.match(bare.out, /prod is for octo-org\/\*, a pattern: .*pushci trigger --repo owner\/name/);
    const named = await cli(['trigger', 'prod', '--branch', 'main', '--repo', 'octo-org/cli', '--follow']);
    assert.equal(named.code, 0, named.out);
    assert.match(named.out, /prod#\d+ success/);
    // Without --follow the new build's id alone is on stdout, for scripts: id=$(pushci trigger …).
    const script = spawnPushci(['trigger', 'prod', '--branch', 'main', '--repo', 'octo-org/cli'], {
      PUSHCI_URL: server.base,
      PUSHCI_API_TOKEN: TOKEN,
    });
    const stdout: string[] = [];
    script.proc.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
    assert.equal(await script.exited, 0, script.output.join(''));
    const id = stdout.join('').trim();
    assert.match(stdout.join(''), /^[0-9a-z]+\n$/, 'one line: the id');
    assert.match(script.output.join(''), /started prod#\d+/);
    assert.equal(await final(id).then((v) => v.pipeline), 'prod');
    const other = await cli(['trigger', 'prod', '--branch', 'main', '--repo', 'attacker/evil']);
    assert.equal(other.code, 1, 'control: --repo is checked by the server like the API field');
    assert.match(other.out, /pipeline prod is for octo-org\/\*, not attacker\/evil/);
  });

  it('the builds filter, GET /api/pipelines/:name and pushci builds take a file as trigger does', async () => {
    const get = async (path: string) => {
      const r = await fetch(`${server.base}${path}`, { headers: auth });
      return { status: r.status, json: (await r.json()) as any };
    };
    const ids = async (pipeline: string) =>
      (await get(`/api/builds?pipeline=${encodeURIComponent(pipeline)}`)).json.builds.map(
        (b: BuildView) => `${b.pipeline}#${b.number}`,
      );
    const byName = await ids('prod');
    assert.ok(byName.length >= 2, 'control: prod has builds by its id');
    const { file } = (await get('/api/pipelines/prod')).json;
    assert.match(file, /\/org\.yml$/);
    for (const wanted of [file, `./${file}`, 'org.yml', 'org']) {
      assert.deepEqual(await ids(wanted), byName, wanted);
      const one = await get(`/api/pipelines/${encodeURIComponent(wanted)}`);
      assert.equal(one.status, 200, wanted);
      assert.equal(one.json.name, 'prod');
      assert.deepEqual(one.json.events, ['push']);
    }
    // A path that fits no pipeline says which exist, rather than answering an empty list.
    const typo = await get(`/api/builds?pipeline=${encodeURIComponent('pipelines/orgg.yml')}`);
    assert.equal(typo.status, 404);
    assert.match(typo.json.message, /no pipeline "pipelines\/orgg\.yml"; the pipelines are: .*prod \(/);
    assert.equal((await get('/api/pipelines/orgg')).status, 404);
    // A bare word is still a filter: the id of a pipeline since removed keeps its builds listed.
    assert.deepEqual(await ids('gone'), []);
    const cli = async (args: string[]) => {
      const p = spawnPushci(args, { PUSHCI_URL: server.base, PUSHCI_API_TOKEN: TOKEN });
      return { code: await p.exited, out: p.output.join('') };
    };
    const listed = await cli(['builds', '--pipeline', file, '--json']);
    assert.equal(listed.code, 0, listed.out);
    assert.deepEqual(
      JSON.parse(listed.out).builds.map((b: BuildView) => `${b.pipeline}#${b.number}`),
      byName,
    );
    assert.match(
      (await cli(['builds', '--pipeline', 'quick'])).out,
      /^success +quick#\d+ +v1\.0 +manual +\w{7} /m,
      'the event of each build: here a manual one of a tag',
    );
    // A job that ended without running has no log: pushci logs says how it ended.
    const [long] = await ids('long');
    const longLog = await cli(['logs', (await get(`/api/builds?pipeline=long`)).json.builds[0].id]);
    assert.equal(longLog.code, 1, longLog.out);
    assert.match(longLog.out, /── after ──\nafter: canceled/, `${long}: ${longLog.out}`);
    // A build by the name pushci builds shows (pipeline#number), the pipeline by its id or its file.
    const oldest = byName.at(-1)!;
    for (const ref of [oldest, oldest.replace('prod#', 'org.yml#')]) {
      const shown = await cli(['logs', ref]);
      assert.match(
        shown.out,
        new RegExp(`── a ──[\\s\\S]*${oldest} (success|failure)`),
        `${ref}: ${shown.out}`,
      );
    }
    const missing = await cli(['logs', 'prod#9999']);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.out.trim(),
      'pushci: no build prod#9999; `pushci builds --pipeline prod` lists them',
    );
    // Who started a manual build is its actor: the CLI sends the user's login, the API what "by" says.
    const mine = await cli(['trigger', 'quick', '--tag', 'v1.0', '--json']);
    assert.equal(mine.code, 0, mine.out);
    assert.equal((await get(`/api/builds/${JSON.parse(mine.out).id}`)).json.pusher, userInfo().username);
    const bot = await post(
      `${server.base}/api/pipelines/quick/trigger`,
      '{"tag":"v1.0","by":"release bot"}',
      auth,
    );
    assert.equal(bot.status, 202, bot.text);
    assert.equal((await final(bot.json.builds[0].id)).pusher, 'release bot');
    const evil = await post(
      `${server.base}/api/pipelines/quick/trigger`,
      '{"tag":"v1.0","by":"x\\n$(id)"}',
      auth,
    );
    assert.equal(evil.status, 400, evil.text);
    const none = await cli(['builds', '--pipeline', 'gone']);
    assert.equal(none.code, 0, none.out);
    assert.match(none.out, /^no builds match pipeline=gone\n$/);
  });
});
