import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { JobCredentials, type JobGrant } from '../../src/artifacts/job-credentials.ts';
import { keys } from '../../src/queue/keys.ts';
import { BuildStore } from '../../src/queue/store.ts';
import { newBuild, webPipeline } from '../helpers/builds.ts';
import { suiteRedis } from '../helpers/suite-redis.ts';

describe('a job credential is stored on its first use only', () => {
  const db = suiteRedis();
  let creds: JobCredentials;
  let store: BuildStore;
  before(() => {
    creds = new JobCredentials(db.client, db.redis.prefix);
    store = new BuildStore(db.client, keys(db.redis.prefix));
  });
  const stored = async () => db.client.keys(`${db.redis.prefix}:jobcred:*`);

  it('writes nothing until `ready`, once however many ask, and then opens its running job only', async () => {
    const b = newBuild(webPipeline('echo hi'));
    assert.ok((await store.create([{ ...b, jobStatus: { build: 'queued' } }])).created);
    const details = { attempt: 1, exit_code: null, reason: null, started_at: 't1', finished_at: null };
    assert.ok((await store.startJob(b.meta.id, 'build', ['queued'], details, 't1')).ok);
    let grants = 0;
    const grant = async (): Promise<JobGrant> => {
      grants++;
      return {
        buildId: b.meta.id,
        job: 'build',
        attempt: 1,
        repository: 'github:octo-org/web',
        ref: 'refs/heads/main',
        defaultRef: null,
      };
    };
    const before = await stored();
    const cred = creds.lazy(grant, Date.now() + 5 * 60_000);
    assert.match(cred.token, /^pcj_/);
    assert.equal(cred.stored, null);
    assert.deepEqual(await stored(), before, 'nothing in Redis before its first use');
    assert.equal(await creds.resolve(cred.token, store), null, 'not stored: it opens nothing');
    await Promise.all([cred.ready(), cred.ready()]);
    await cred.ready();
    assert.equal(grants, 1, 'stored once');
    const added = (await stored()).filter((k) => !before.includes(k));
    assert.equal(added.length, 1);
    const ttl = await db.client.pttl(added[0]!);
    assert.ok(ttl > 4 * 60_000 && ttl <= 5 * 60_000, `expires when the job's deadline says: ${ttl} ms`);
    assert.equal((await creds.resolve(cred.token, store))?.buildId, b.meta.id);
    await creds.revoke(cred.token);
    assert.equal(await creds.resolve(cred.token, store), null, 'revoked');
  });
});
