import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { browserSkip, launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { cliAgainst } from '../helpers/cli-against.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';
import { artifactClient, removeArtifactClient } from '../helpers/artifact-client.ts';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';

const SECRET = 'actions-artifact-secret';

after(removeArtifactClient);

describe('the artifact protocol from inside sandboxed steps (@actions/artifact)', () => {
  const s = suiteServer({
    history: [{ 'seed.txt': 's1\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = artifactClient();
      return {
        'art.yml': `${pipelineHead('art', repo.dir)}env:
  CLIENT: ${client}
jobs:
  make:
    steps:
${RUNTIME_STEP}      - run: |
          mkdir -p out/sub
          echo "made by build $CI_BUILD_NUMBER" > out/a.txt
          head -c 30000 /dev/urandom | base64 > out/sub/b.txt
          sha256sum out/a.txt out/sub/b.txt > sums.txt
          echo "<p>report of $CI_BUILD_NUMBER</p>" > report.html
          "$CLIENT/node" "$CLIENT/client.mjs" upload dist out/a.txt out/sub/b.txt sums.txt
          "$CLIENT/node" "$CLIENT/client.mjs" upload-file report.html report.html
          "$CLIENT/node" "$CLIENT/client.mjs" upload scratch sums.txt
          "$CLIENT/node" "$CLIENT/client.mjs" upload "Test Results (3.12)" sums.txt
          "$CLIENT/node" "$CLIENT/client.mjs" delete scratch
          # 20 MB: three 8 MB blocks, sent in parallel, joined in the block list's order.
          head -c 20000000 /dev/urandom > big.bin
          "$CLIENT/node" "$CLIENT/client.mjs" upload-file big.bin big.bin
          sha256sum big.bin | cut -d' ' -f1 > big.sum
          "$CLIENT/node" "$CLIENT/client.mjs" upload-file big.sum big.sum
  use:
    needs: make
    steps:
${RUNTIME_STEP}      - run: |
          "$CLIENT/node" "$CLIENT/client.mjs" list
          "$CLIENT/node" "$CLIENT/client.mjs" download dist got
          (cd got && sha256sum -c sums.txt && cat out/a.txt)
          "$CLIENT/node" "$CLIENT/client.mjs" download report.html got-file
          cat got-file/report.html
          "$CLIENT/node" "$CLIENT/client.mjs" download "Test Results (3.12)" got-results
          echo "results: $(wc -l < got-results/sums.txt) lines"
          "$CLIENT/node" "$CLIENT/client.mjs" download big.bin got-big
          "$CLIENT/node" "$CLIENT/client.mjs" download big.sum got-big
          [ "$(sha256sum got-big/big.bin | cut -d' ' -f1)" = "$(cat got-big/big.sum)" ] && echo "big: same bytes"
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  const build = async (sha: string) => {
    const b = await pushAndWait(s.server, { name: 'art', sha, secret: SECRET, timeoutMs: 180_000 });
    const id = b.id;
    return { id, b };
  };
  const log = async (id: string, job: string) =>
    (await s.server.api(`/api/builds/${id}/jobs/${job}/log`)).text();

  let first: string;

  it(
    'job A uploads, job B (needs: A) lists and downloads them with their contents intact',
    { timeout: 240_000 },
    async () => {
      const { id, b } = await build(s.repo.commits[0]!);
      first = id;
      const make = await log(id, 'make');
      const use = await log(id, 'use');
      assert.equal(b.status, 'success', `${make}\n${use}`);
      assert.match(make, /client: uploaded dist \d+ with digest/);
      assert.match(make, /client: uploaded file report\.html \d+/);
      assert.match(make, /client: deleted scratch true/);
      assert.match(make, /client: uploaded file big\.bin 20000000/);
      assert.match(make, /client: uploaded Test Results \(3\.12\) \d+ with digest/);
      assert.match(
        use,
        /client: listed Test Results \(3\.12\):\d+ big\.bin:20000000 big\.sum:65 dist:\d+ report\.html:\d+\n/,
      );
      assert.match(use, /client: downloaded Test Results \(3\.12\) digest ok/);
      assert.match(use, /results: 2 lines/);
      assert.match(use, /big: same bytes/);
      assert.match(use, /client: downloaded dist digest ok/);
      assert.match(use, /out\/sub\/b\.txt: OK/);
      assert.match(use, /made by build 1/);
      assert.match(use, /client: downloaded report\.html digest ok/);
      assert.match(use, /<p>report of 1<\/p>/);
    },
  );

  it('users list and download them through the API, as a zip and as the file itself', async () => {
    const list = (await (await s.server.api(`/api/builds/${first}/artifacts`)).json()) as {
      artifacts: Array<{ name: string; job: string; format?: string; digest?: string }>;
    };
    assert.deepEqual(
      list.artifacts.map((a) => [a.name, a.job, a.format]),
      [
        ['big.bin', 'make', 'file'],
        ['big.sum', 'make', 'file'],
        ['dist', 'make', 'zip'],
        ['report.html', 'make', 'file'],
        ['Test Results (3.12)', 'make', 'zip'],
      ],
    );
    assert.match(list.artifacts[2]!.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    const res = await s.server.api(`/api/builds/${first}/artifacts/dist`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.match(res.headers.get('content-disposition') ?? '', /art-1-dist\.zip/);
    const dir = mkdtempSync(join(tmpdir(), 'pushci-test-v4-artifact-'));
    try {
      writeFileSync(join(dir, 'a.zip'), Buffer.from(await res.arrayBuffer()));
      execFileSync('unzip', ['-q', join(dir, 'a.zip'), '-d', join(dir, 'x')]);
      assert.deepEqual(readdirSync(join(dir, 'x')).sort(), ['out', 'sums.txt']);
      assert.equal(readFileSync(join(dir, 'x', 'out', 'a.txt'), 'utf8'), 'made by build 1\n');
      const file = await s.server.api(`/api/builds/${first}/artifacts/report.html`);
      assert.match(file.headers.get('content-disposition') ?? '', /filename="report\.html"/);
      assert.equal(await file.text(), '<p>report of 1</p>\n');
      const spaced = await s.server.api(
        `/api/builds/${first}/artifacts/${encodeURIComponent('Test Results (3.12)')}`,
      );
      assert.equal(spaced.status, 200);
      assert.match(spaced.headers.get('content-disposition') ?? '', /art-1-Test Results \(3\.12\)\.zip/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the CLI downloads the zip and unpacks it (with pushci’s own unzip), and saves the single file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-test-v4-cli-'));
    const cli = cliAgainst(s.server, dir, 'artifacts');
    try {
      assert.match(await cli(first), /^dist\s+make\s+\d+(\.\d)? kB\s+expires \d{4}-\d\d-\d\d$/m);
      await cli(first, 'dist');
      const listed = execFileSync('unzip', ['-Z1', join(dir, 'art-1-dist.zip')], { encoding: 'utf8' });
      assert.deepEqual(listed.trim().split('\n').sort(), ['out/a.txt', 'out/sub/b.txt', 'sums.txt']);
      await cli(first, 'dist', '--extract', join(dir, 'x'));
      assert.equal(readFileSync(join(dir, 'x/out/a.txt'), 'utf8'), 'made by build 1\n');
      execFileSync('sha256sum', ['-c', 'sums.txt'], { cwd: join(dir, 'x') });
      await cli(first, 'report.html', '--extract', join(dir, 'y'));
      assert.equal(readFileSync(join(dir, 'y/report.html'), 'utf8'), '<p>report of 1</p>\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'the dashboard links them by what they are: dist.zip and report.html',
    { skip: browserSkip },
    async () => {
      const browser = await launchBrowser();
      try {
        const page = await loggedInPage(browser, s.server.base, s.server.token);
        await page.goto(`${s.server.base}/#/builds/${first}`);
        const links = page.getByTestId('artifact-link');
        await links.nth(4).waitFor();
        assert.deepEqual(await links.allTextContents(), [
          'big.bin',
          'big.sum',
          'dist.zip',
          'report.html',
          'Test Results (3.12).zip',
        ]);
        const [download] = await Promise.all([page.waitForEvent('download'), links.nth(2).click()]);
        assert.equal(download.suggestedFilename(), 'art-1-dist.zip');
        const listed = execFileSync('unzip', ['-Z1', await download.path()], { encoding: 'utf8' });
        assert.deepEqual(listed.trim().split('\n').sort(), ['out/a.txt', 'out/sub/b.txt', 'sums.txt']);
      } finally {
        await browser.close();
      }
    },
  );
});

describe('the artifact protocol against a step that attacks it (real sandbox)', () => {
  const s = suiteServer({
    history: [{ 'seed.txt': 's1\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = artifactClient();
      return {
        'atk.yml': `${pipelineHead('atk', repo.dir)}env:
  CLIENT: ${client}
jobs:
  make:
    steps:
${RUNTIME_STEP}      - run: |
          head -c 2000 /dev/urandom > secret.bin
          "$CLIENT/node" "$CLIENT/client.mjs" upload dist secret.bin
  attack:
    needs: make
    steps:
${RUNTIME_STEP}      - run: |
          lib() { "$CLIENT/node" "$CLIENT/client.mjs" "$@" | grep '^client:'; }
          code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
          twirp() {
            curl -s -o out.json -w '%{http_code}' -X POST -H 'content-type: application/json' \\
              "\${ACTIONS_RESULTS_URL}twirp/github.actions.results.api.v1.ArtifactService/$1" -d "$2"
          }
          b64() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
          token() { echo "$(printf '{"typ":"JWT","alg":"none"}' | b64).$(printf '{"scp":"Actions.Results:%s:%s"}' "$1" "$2" | b64)."; }
          lib list | sed 's/^/control: /'
          c=$(twirp GetSignedArtifactURL '{"workflow_run_backend_id":"'"$CI_BUILD_ID"'","workflow_job_run_backend_id":"make","name":"dist"}')
          url=$(sed -n 's/.*"signed_url":"\\([^"]*\\)".*/\\1/p' out.json)
          echo "control: signed $c, fetched $(code "$url")"
          bad="\${url%?}0"; [ "$bad" != "$url" ] || bad="\${url%?}1"
          echo "attack: altered signature $(code "$bad")"
          echo "attack: guessed signature $(code "\${url%%sig=*}sig=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')")"
          echo "attack: later expiry $(code "$(printf '%s' "$url" | sed 's/expires=1/expires=2/')")"
          echo "attack: upload with a download URL $(code -X PUT --data-binary x "$(printf '%s' "$url" | sed 's#/download?#/upload?#')&comp=block&blockid=AAAA")"
          ACTIONS_RUNTIME_TOKEN=$(token "$CI_BUILD_ID" make) lib upload-file seed.txt seed.txt | sed 's/^/attack: posing as job make: /'
          head -c 300000 /dev/urandom > big.bin
          lib upload-file big.bin big.bin | sed 's/^/attack: oversize: /'
          head -c 100 /dev/urandom > small.bin
          lib upload-file small.bin small.bin | sed 's/^/control: /'
          lib list | sed 's/^/control: after: /'
          if [ -f target.txt ]; then
            T=$(cat target.txt)
            ACTIONS_RUNTIME_TOKEN=$(token "$T" attack) lib list | sed 's/^/attack: forged build: /'
            ACTIONS_RUNTIME_TOKEN=$(token "$T" make) lib download dist stolen | sed 's/^/attack: forged build: /'
            echo "attack: other build's URL $(twirp GetSignedArtifactURL '{"workflow_run_backend_id":"'"$T"'","workflow_job_run_backend_id":"make","name":"dist"}')"
            echo "attack: own signature on the other build $(code "$(printf '%s' "$url" | sed "s#/artifacts/$CI_BUILD_ID/#/artifacts/$T/#")")"
            test ! -e stolen/secret.bin && echo "attack: nothing stolen"
          fi
          for i in $(seq 120); do c=$(code "$url"); [ "$c" = 200 ] || break; sleep 1; done
          echo "attack: expired URL $c"
`,
      };
    },
    env: {
      GITHUB_WEBHOOK_SECRET: SECRET,
      PUSHCI_ARTIFACT_MAX_BYTES: '100000',
      PUSHCI_ARTIFACT_URL_TTL: '15s',
    },
  });

  const build = async (sha: string) => {
    const b = await pushAndWait(s.server, { name: 'atk', sha, secret: SECRET, timeoutMs: 300_000 });
    const id = b.id;
    const log = await jobLog(s.server, id, 'attack');
    assert.equal(b.status, 'success', log);
    return { id, log };
  };

  it(
    'refuses forged ids, altered, guessed and expired URLs, and an oversize upload, next to the controls',
    { timeout: 360_000 },
    async () => {
      const victim = await build(s.repo.commits[0]!);
      const sha = s.repo.commit({ 'target.txt': `${victim.id}\n` });
      const { id, log } = await build(sha);
      assert.match(log, /control: client: listed dist:\d+\n/);
      assert.match(log, /control: signed 200, fetched 200/);
      assert.match(log, /attack: altered signature 403/);
      assert.match(log, /attack: guessed signature 403/);
      assert.match(log, /attack: later expiry 403/);
      assert.match(log, /attack: upload with a download URL 403/);
      assert.match(log, /attack: posing as job make: client: failed: .*\(403\).*its own artifacts/);
      assert.match(log, /attack: oversize: client: failed: .*larger than its limit of 100000 bytes/);
      assert.match(log, /control: client: uploaded file small\.bin 100/);
      // The refused upload left nothing listed.
      assert.match(log, /control: after: client: listed dist:\d+ small\.bin:100\n/);
      assert.match(log, /attack: forged build: client: failed: .*\(403\).*its own build/);
      assert.match(log, /attack: other build's URL 403/);
      assert.match(log, /attack: own signature on the other build 404/);
      assert.match(log, /attack: nothing stolen/);
      assert.match(log, /attack: expired URL 403/);
      const list = (await (await s.server.api(`/api/builds/${id}/artifacts`)).json()) as {
        artifacts: Array<{ name: string }>;
      };
      assert.deepEqual(
        list.artifacts.map((a) => a.name),
        ['dist', 'small.bin'],
      );
    },
  );
});

describe('PUSHCI_ARTIFACT_TOTAL_BYTES across builds (@actions/artifact uploads)', () => {
  const s = suiteServer({
    history: [{ 'seed.txt': 's1\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = artifactClient();
      return {
        'cap.yml': `${pipelineHead('cap', repo.dir)}jobs:
  make:
    steps:
${RUNTIME_STEP}      - run: |
          head -c 3000 /dev/urandom > blob.bin
          "${client}/node" "${client}/client.mjs" upload-file blob.bin blob.bin
`,
      };
    },
    // One artifact of 3000 bytes fits; a second one does not.
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_ARTIFACT_TOTAL_BYTES: '5000' },
  });

  it(
    'the newer build’s upload removes the older build’s artifact, not its own',
    { timeout: 420_000 },
    async () => {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const sha = s.repo.commit({ 'seed.txt': `s${i}\n` });
        const b = await pushAndWait(s.server, { name: 'cap', sha, secret: SECRET, timeoutMs: 180_000 });
        const id = b.id;
        const log = await jobLog(s.server, id, 'make');
        assert.equal(b.status, 'success', log);
        assert.match(log, /client: uploaded file blob\.bin 3000/);
        ids.push(id);
      }
      const names = async (id: string) =>
        (
          (await (await s.server.api(`/api/builds/${id}/artifacts`)).json()) as {
            artifacts: Array<{ name: string }>;
          }
        ).artifacts.map((a) => a.name);
      assert.deepEqual(await names(ids[0]!), []);
      assert.equal((await s.server.api(`/api/builds/${ids[0]}/artifacts/blob.bin`)).status, 404);
      assert.deepEqual(await names(ids[1]!), ['blob.bin']);
      assert.equal((await s.server.api(`/api/builds/${ids[1]}/artifacts/blob.bin`)).status, 200);
    },
  );
});
