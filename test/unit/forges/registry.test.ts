import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { SETTINGS } from '../../../src/settings.ts';
import { FORGE_LIST, forgeNamed, isForgeName } from '../../../src/forges/registry.ts';
import { openApiDocument } from '../../../src/http/openapi.ts';
import { FORGES } from '../../../src/model.ts';
import { init } from '../../../src/onboarding/init.ts';
import { statusRequest } from '../../../src/notify/commit-status.ts';

describe('forge registry', () => {
  it('lists every forge name once, in the order of FORGES', () => {
    assert.deepEqual(
      FORGE_LIST.map((f) => f.name),
      [...FORGES],
    );
    for (const name of FORGES) assert.equal(forgeNamed(name).name, name);
    assert.equal(isForgeName('github'), true);
    assert.equal(isForgeName('toString'), false);
    assert.equal(isForgeName('svn'), false);
  });

  it('puts each forge’s settings rows into the one settings table', () => {
    for (const f of FORGE_LIST) {
      assert.ok(f.settings.length > 0, `${f.name} has settings`);
      for (const row of f.settings) assert.ok(SETTINGS.includes(row), `${row.env} in SETTINGS`);
      for (const s of f.webhookSecrets(loadConfig({})))
        assert.ok(
          f.settings.some((row) => row.env === s.env),
          `${f.name}'s secret ${s.env} is one of its own settings`,
        );
      assert.ok(
        f.settings.some((row) => row.env === f.setup.secretEnv),
        `${f.name}'s init secret is one of its settings`,
      );
    }
    const envs = SETTINGS.map((s) => s.env);
    assert.equal(new Set(envs).size, envs.length, 'no setting twice');
  });

  it('documents POST /webhooks/<name> of every forge in the OpenAPI document', () => {
    const doc = openApiDocument('http://x', '1') as { paths: Record<string, { post?: unknown }> };
    const hooks = Object.keys(doc.paths).filter((p) => p.startsWith('/webhooks/'));
    assert.deepEqual(hooks.sort(), FORGES.map((n) => `/webhooks/${n}`).sort());
    for (const p of hooks) assert.ok(doc.paths[p]!.post, `${p} documents POST`);
  });

  it('derives default clone URLs from each forge’s base URL setting', () => {
    const config = loadConfig({ PUSHCI_GITEA_URL: 'https://git.example.com/' });
    assert.equal(forgeNamed('gitea').cloneUrl(config, 'o/r'), 'https://git.example.com/o/r.git');
    assert.equal(forgeNamed('github').cloneUrl(config, 'o/r'), 'https://github.com/o/r.git');
    assert.equal(forgeNamed('forgejo').cloneUrl(config, 'o/r'), 'https://codeberg.org/o/r.git');
  });

  it('builds commit status calls for the forges that have them and refuses the others by name', () => {
    const config = loadConfig({ GITHUB_TOKEN: 'gh', GITLAB_TOKEN: 'gl' });
    const status = {
      repository: 'o/r',
      sha: 'a'.repeat(40),
      ref: 'main',
      status: 'canceled' as const,
      context: 'pushci/web',
      description: 'x'.repeat(200),
      targetUrl: 'http://x/b',
    };
    const gh = statusRequest({ ...status, forge: 'github' } as never, config);
    assert.equal(gh.url, `https://api.github.com/repos/o/r/statuses/${'a'.repeat(40)}`);
    assert.equal(JSON.parse(gh.body).state, 'error');
    assert.equal(JSON.parse(gh.body).description.length, 140);
    const gl = statusRequest({ ...status, forge: 'gitlab' } as never, config);
    assert.equal(gl.headers['private-token'], 'gl');
    assert.equal(JSON.parse(gl.body).state, 'canceled');
    assert.throws(() => statusRequest({ ...status, forge: 'gitea' } as never, config), {
      code: 'missing_token',
    });
    assert.throws(
      () => statusRequest({ ...status, forge: 'github' } as never, loadConfig({})),
      /GITHUB_TOKEN/,
    );
  });

  for (const f of FORGE_LIST) {
    it(`init writes ${f.setup.secretEnv} for ${f.name} and says where to paste it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-init-'));
      const r = await init(dir, join(dir, 'pipelines'), {
        forge: f.name,
        repository: 'octo/app',
        branches: ['main'],
        publicUrl: 'https://ci.example.com',
      });
      const secret = r.env[f.setup.secretEnv]!;
      assert.match(secret, /^[0-9a-f]{64}$/);
      assert.match(readFileSync(r.envFile, 'utf8'), new RegExp(`^${f.setup.secretEnv}=${secret}$`, 'm'));
      const text = r.instructions.join('\n');
      assert.ok(text.includes(`https://ci.example.com/webhooks/${f.name}`), text);
      assert.ok(text.includes(secret), text);
      assert.match(readFileSync(r.pipelineFile, 'utf8'), new RegExp(`^forge: ${f.name}$`, 'm'));
    });
  }
});
