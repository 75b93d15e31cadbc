import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mirrorPath } from '../../src/runner/checkout.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { processesMatching, runDigits } from '../helpers/processes.ts';
import { waitFor } from '../helpers/receiver.ts';
import type { BuildView } from '../../src/model.ts';
import { hostAddresses, reachable, sentinel } from '../helpers/network-probes.ts';

/*
 * Every attack of issue #15, run from inside real steps against a real `pushci serve` started the way the
 * README says (a child process in a folder with a .env and ./pipelines, every setting at its default:
 * embedded Redis, data dir ./.pushci, PUSHCI_RUNNER=auto). Each attack prints "ATTACK <name> BLOCKED"
 * or "ATTACK <name> SUCCEEDED"; the test also checks on the host that nothing changed. As root, the whole
 * suite runs a second time with the server running as an unprivileged user made here, as operators do.
 */

const CLI = join(import.meta.dirname, '../../src/cli.ts');
const SECRET = `gh-${randomUUID()}`;
const DEPLOY = `deploy-${randomUUID()}`;
const USER = 'pushci-sbx-test';

interface Identity {
  name: string;
  uid?: number;
  gid?: number;
  home: string;
  /** Why this identity cannot run here, or null. */
  skip: string | null;
}

function identities(): Identity[] {
  const me: Identity = { name: 'as the current user', home: process.env.HOME ?? '/', skip: null };
  if (process.getuid?.() !== 0) return [me];
  me.name = 'as root';
  if (spawnSync('id', ['-u', USER]).status !== 0)
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', USER], { stdio: 'ignore' });
  const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }));
  const home = execFileSync('sh', ['-c', `getent passwd ${USER} | cut -d: -f6`], { encoding: 'utf8' }).trim();
  writeFileSync(join(home, '.pushci-home-marker'), 'the operator home\n');
  execFileSync('chown', [`${uid}:${gid}`, join(home, '.pushci-home-marker')]);
  // The user must be able to run this checkout's node and sources.
  const canRun = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI)})`], {
    uid,
    gid,
  });
  const skip =
    canRun.status === 0 ? null : `user ${USER} cannot read ${CLI} (the checkout is not readable by others)`;
  return [me, { name: `as the unprivileged user ${USER}`, uid, gid, home, skip }];
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** The step library: `r NAME COMMAND` prints whether COMMAND (an attack) worked. */
const LIB = String.raw`get() { printf '%s\n' "$CI_COMMIT_MESSAGE" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
r() { if (eval "$2") >/dev/null 2>&1; then echo "ATTACK $1 SUCCEEDED"; else echo "ATTACK $1 BLOCKED"; fi; }
tcp() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2 && printf 'attack-$3\n' >&3"; }`;

const indent = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

for (const who of identities()) {
  describe(`sandbox attacks ${who.name}`, { skip: who.skip ?? false }, () => {
    let dir: string;
    let repo: TestRepo;
    let server: ChildProcess;
    let output = '';
    let base: string;
    let port: number;
    let lo: Awaited<ReturnType<typeof sentinel>>;
    let any: Awaited<ReturnType<typeof sentinel>>;
    let mirror: string;
    let envBefore: string;
    let hostOutbound: boolean;
    const sentinelFile = join(tmpdir(), `pushci-sbx-sentinel-${randomUUID()}`);
    const tag = randomUUID().slice(0, 8);
    // Sleep numbers of this run only (other checkouts run this suite too), distinct per identity.
    const n = `${runDigits()}${who.uid === undefined ? 3 : 4}`;
    const sleeps = (k: number) => [1, 2, 3, 4].map((i) => `${n}${k}0${i}`);
    const daemons = (k: number) => {
      const [a, b, c, d] = sleeps(k);
      return `setsid sleep ${a} &
( (sleep ${b} &) & )
env -i /bin/sleep ${c} &
nohup sleep ${d} >/dev/null 2>&1 &
echo daemons started`;
    };

    // The API token `pushci serve` generated into its data dir (root may read the other user's file).
    const auth = () => ({
      authorization: `Bearer ${readFileSync(join(dir, '.pushci', 'api-token'), 'utf8').trim()}`,
    });
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { ...auth(), ...(init.headers as Record<string, string>) },
      });
    const api = async <T>(path: string): Promise<T> => (await (await call(path)).json()) as T;
    const build = (id: string) => api<BuildView>(`/api/builds/${id}`);
    const finished = (id: string) =>
      waitFor(
        async () => {
          const b = await build(id);
          return ['success', 'failure', 'error', 'canceled', 'skipped'].includes(b.status) ? b : null;
        },
        90_000,
        `build ${id}`,
      ).catch(async (err: Error) => {
        const b = await build(id);
        const logs = await Promise.all(
          b.jobs.filter((j) => j.status === 'running').map((j) => log(id, j.name)),
        );
        throw new Error(
          `${err.message}: ${JSON.stringify(b.jobs)}\n${logs.join('\n')}\n${output.slice(-3000)}`,
        );
      });
    const log = async (id: string, job: string) => (await call(`/api/builds/${id}/jobs/${job}/log`)).text();
    const push = async (repository: string, ref: string, sha: string, message = 'x') => {
      const res = await sendGithub(
        base,
        githubPush({ ref, before: repo.commits[0]!, after: sha, repo: repository, message }),
        SECRET,
      );
      assert.equal(res.status, 202, res.text);
      return res.json.builds[0].id as string;
    };
    const attacks = (text: string) =>
      [...text.matchAll(/ATTACK (\S+) (BLOCKED|SUCCEEDED)/g)].map((m) => [m[1]!, m[2]!] as const);
    const leftovers = () => processesMatching(new RegExp(`^(/bin/)?sleep ${n}\\d0\\d$`));

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pushci-sbx-'));
      writeFileSync(sentinelFile, 'host /tmp\n');
      repo = makeRepo([{ 'hello.txt': 'clean\n' }]);
      symlinkSync('/etc', join(repo.dir, 'escape'));
      repo.git('add', 'escape');
      repo.git('commit', '-q', '-m', 'a symlink out of the checkout');
      repo.commits.push(repo.git('rev-parse', 'HEAD'));
      repo.git('checkout', '-q', '-b', 'other');
      repo.commit({ 'other.txt': 'other branch\n' });
      repo.git('checkout', '-q', 'main');
      lo = await sentinel('127.0.0.1');
      any = await sentinel('0.0.0.0');
      hostOutbound = await reachable('registry.npmjs.org', 443);
      port = await freePort();
      base = `http://127.0.0.1:${port}`;
      mirror = mirrorPath(join(dir, '.pushci'), repo.dir);
      const head = (name: string) =>
        `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\n`;
      const files: Record<string, string> = {
        'attack.yml': `${head('attack')}env:
  T_DIR: ${dir}
  T_HOME: ${who.home}
  T_MIRROR: ${mirror}
  T_SENTINEL: ${sentinelFile}
jobs:
  escape:
    steps:
      - name: files
        run: |
${indent(LIB, 10)}
          r env-file 'grep -q GITHUB_WEBHOOK_SECRET "$T_DIR/.env"'
          r server-cwd 'ls "$T_DIR" | grep -q pipelines'
          r redis-files 'ls -A "$T_DIR/.pushci/redis" | grep -q .'
          r other-workspaces 'find "$T_DIR/.pushci/workspaces" -name neighbour-secret.txt | grep -q .'
          r operator-home 'test -e "$T_HOME/.pushci-home-marker"'
          r host-tmp 'test -e "$T_SENTINEL"'
          r write-usr 'touch /usr/pushci-pwned-${tag}'
          r write-etc 'echo pwned >> /etc/hosts'
          r write-server-dir 'echo pwned > "$T_DIR/pwned-${tag}" && test -e "$T_DIR/pwned-${tag}"'
      - name: processes
        run: |
${indent(LIB, 10)}
          r see-server 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done | grep -q "cli[.]ts serve"'
          r see-redis 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done | grep -q "redis[-]server"'
          r server-environ 'grep -qa GITHUB_WEBHOOK_SECRET /proc/[0-9]*/environ'
          r signal-server 'kill -0 "$(get pid)"'
          r signal-redis 'kill -0 "$(get redispid)"'
          r see-spawner 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done | grep -q "spawner[-]main"'
          r spawner-channel 'ls -l /proc/$$/fd | awk "\\$9 > 2" | grep -q socket'
      - name: network
        run: |
${indent(LIB, 10)}
          r api-loopback 'tcp 127.0.0.1 "$(get api)" api'
          r redis-loopback 'tcp 127.0.0.1 "$(get redis)" redis'
          r daemon-loopback 'tcp 127.0.0.1 "$(get lo)" lo'
          r api-gateway 'tcp 10.0.2.2 "$(get api)" gw'
          r metadata 'tcp 169.254.169.254 80 md'
          for a in $(get addrs | tr , ' '); do
            r "api-via-$a" "tcp $a $(get api) api-$a"
            r "daemon-via-$a" "tcp $a $(get any) any-$a"
          done
          if timeout 8 bash -c 'exec 3<>/dev/tcp/registry.npmjs.org/443'; then echo "OUTBOUND ok"; else echo "OUTBOUND failed"; fi
          ip route show type prohibit | sed 's/^/ROUTE /'
          r route-delete 'ip route del prohibit 10.0.2.2/32'
          r capabilities 'grep -Eq "^Cap(Prm|Eff|Bnd|Amb):[[:space:]]*0*[1-9a-f]" /proc/self/status'
      - name: environment
        run: env | sort | sed 's/^/ENV /'
      - name: git
        run: |
${indent(LIB, 10)}
          evil=$(echo poisoned | git hash-object -w --stdin)
          git replace -f "$(git rev-parse HEAD:hello.txt)" "$evil"
          echo "own checkout after replace: $(git cat-file -p HEAD:hello.txt)"
          r mirror-objects 'echo x > "$T_MIRROR/objects/pwned"'
          r mirror-replace 'git --git-dir="$T_MIRROR" replace -f "$(git rev-parse HEAD:hello.txt)" "$evil"'
          r mirror-hook 'mkdir -p "$T_MIRROR/hooks" && printf "#!/bin/sh\\necho HOOKED\\n" > "$T_MIRROR/hooks/post-checkout" && chmod +x "$T_MIRROR/hooks/post-checkout" && test -x "$T_MIRROR/hooks/post-checkout"'
          r mirror-config 'git config --file "$T_MIRROR/config" core.hooksPath /tmp'
          r mirror-pack 'cp .git/objects/*/* "$T_MIRROR/objects/" 2>/dev/null'
  neighbour:
    steps:
      - run: |
          echo secret > neighbour-secret.txt
          sleep 4
  control:
    steps:
      - run: |
          echo "CONTROL git $(git log -1 --format=%H) $(git status --porcelain | wc -l)"
          mkdir -p build && echo artifact > build/out.txt && cat build/out.txt | sed 's/^/CONTROL file /'
          echo tmp > /tmp/t && cat /tmp/t | sed 's/^/CONTROL tmp /'
          echo home > "$HOME/h" && cat "$HOME/h" | sed 's/^/CONTROL home /'
          git -c user.name=t -c user.email=t@t commit -q --allow-empty -m local && echo "CONTROL commit ok"
          sh -c 'echo "CONTROL child $$"'
          ls -l /proc/$$/fd | awk '$9 == 1' | grep -q socket && echo "CONTROL stdout is a socket"
          (sleep 0.2; echo "CONTROL background done") & wait
          # Folders the step made read-only: its workspace, /tmp and $HOME must still go with the job.
          for d in . "$HOME" /tmp; do mkdir -p "$d/locked/in" && touch "$d/locked/in/f" && chmod 0000 "$d/locked/in" && chmod 0500 "$d/locked" || exit 1; done
          echo "CONTROL locked folders"
  daemons-success:
    steps:
      - run: |
${indent(daemons(1), 10)}
  daemons-failure:
    steps:
      - run: |
${indent(daemons(2), 10)}
          exit 1
  daemons-timeout:
    steps:
      # The step's own timeout, which starts with the step: a job's covers the checkout too, and on a
      # busy machine could end the job before its step started any daemon.
      - timeout-minutes: 0.08
        run: |
${indent(daemons(3), 10)}
          sleep 1000
  kill-everything:
    steps:
      - run: |
          echo killing everything
          kill -KILL -1
          echo still here
  symlink:
    working-directory: escape
    steps:
      - run: ls
`,
        'hang.yml': `${head('hang')}jobs:
  hang:
    steps:
      - run: |
${indent(daemons(4), 10)}
          echo READY
          sleep 1000
`,
        // A step's $GITHUB_PATH puts a folder it wrote in front of the next step's PATH: what it holds
        // must not stand in for the programs that make the next step's sandbox (they would run outside).
        'hijack.yml': `${head('hijack')}env:
  T_DIR: ${dir}
jobs:
  hijack:
    steps:
      - run: |
          mkdir -p hijack
          for p in bwrap nsenter unshare setpriv prlimit sh; do
            printf '#!/bin/sh\\ntouch "%s/hijacked-%s"\\nexec /usr/bin/%s "$@"\\n' "$T_DIR" "$p" "$p" > "hijack/$p"
            chmod +x "hijack/$p"
          done
          echo "$PWD/hijack" >> "$GITHUB_PATH"
      - run: |
          echo "HIJACK on PATH: $PATH"
          test -e "$T_DIR/.env" || echo "HIJACK still sandboxed"
`,
        'victim.yml': `${head('victim')}jobs:
  check:
    steps:
      - run: |
          echo "VICTIM $(cat hello.txt)"
          echo "VICTIM other $(cat other.txt)"
          if [ -d .git/hooks ]; then ls .git/hooks | sed 's/^/VICTIM hook /'; fi
`,
        'modes.yml': `${head('modes')}jobs:
  none:
    network: none
    steps:
      - run: |
${indent(LIB, 10)}
          r none-default-route 'ip route | grep -q default'
          r none-outbound 'timeout 3 bash -c "exec 3<>/dev/tcp/registry.npmjs.org/443"'
  host:
    network: host
    steps:
      - run: |
${indent(LIB, 10)}
          tcp 127.0.0.1 "$(get lo)" host-mode && echo "CONTROL host-mode reached loopback"
`,
      };
      const pipelines = join(dir, 'pipelines');
      execFileSync('mkdir', [pipelines]);
      for (const [f, text] of Object.entries(files)) writeFileSync(join(pipelines, f), text);
      writeFileSync(
        join(dir, '.env'),
        `PORT=${port}\nGITHUB_WEBHOOK_SECRET=${SECRET}\nPUSHCI_SECRET_DEPLOY=${DEPLOY}\nPUSHCI_KILL_GRACE_MS=500\n`,
      );
      envBefore = readFileSync(join(dir, '.env'), 'utf8');
      if (who.uid !== undefined) {
        for (const d of [dir, repo.dir]) execFileSync('chown', ['-R', `${who.uid}:${who.gid}`, d]);
      }
      server = spawn(process.execPath, [CLI, 'serve'], {
        cwd: dir,
        env: { PATH: process.env.PATH!, HOME: who.home },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(who.uid !== undefined ? { uid: who.uid, gid: who.gid! } : {}),
      });
      server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      await waitFor(
        async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok || null,
        60_000,
        `pushci serve to answer (output: ${output.slice(-2000)})`,
      );
    });

    after(async () => {
      server?.kill('SIGTERM');
      await new Promise((r) => (server?.exitCode !== null ? r(null) : server.once('exit', r)));
      lo?.server.close();
      any?.server.close();
      rmSync(sentinelFile, { force: true });
      rmSync(dir, { recursive: true, force: true });
    });

    let attackId: string;
    let attack: BuildView;

    it('starts sandboxed by default, and builds are not marked unsandboxed', async () => {
      assert.match(output, /steps run in the sandbox/);
      assert.doesNotMatch(output, /NO SANDBOX/);
    });

    it('runs every attack from inside real steps, and every one fails', async () => {
      // The embedded Redis: its pid file and the port pushci logged when it started it.
      const redisPid = readFileSync(join(dir, '.pushci', 'redis', 'redis.pid'), 'utf8').trim();
      const redisPort = /"port":(\d+)[^\n]*embedded redis-server started/.exec(output)?.[1];
      assert.ok(redisPort, 'the embedded Redis runs');
      const message = [
        `api=${port}`,
        `redis=${redisPort}`,
        `pid=${server.pid}`,
        `redispid=${redisPid}`,
        `lo=${lo.port}`,
        `any=${any.port}`,
        `addrs=${hostAddresses().join(',')}`,
      ].join(' ');
      attackId = await push('octo-org/attack', 'refs/heads/main', repo.commits[1]!, message);
      attack = await finished(attackId);
      const escapeLog = await log(attackId, 'escape');
      const status = Object.fromEntries(attack.jobs.map((j) => [j.name, j.status]));
      assert.deepEqual(
        status,
        {
          escape: 'success',
          neighbour: 'success',
          control: 'success',
          'daemons-success': 'success',
          'daemons-failure': 'failure',
          'daemons-timeout': 'failure',
          'kill-everything': 'failure',
          symlink: 'failure',
        },
        escapeLog,
      );
      assert.equal(attack.unsandboxed, false);
      assert.ok(attack.jobs.every((j) => j.runner === 'sandbox'));

      const text = await log(attackId, 'escape');
      const results = attacks(text);
      const expected = [
        'env-file',
        'server-cwd',
        'redis-files',
        'other-workspaces',
        'operator-home',
        'host-tmp',
        'write-usr',
        'write-etc',
        'write-server-dir',
        'see-server',
        'see-redis',
        'server-environ',
        'signal-server',
        'signal-redis',
        'see-spawner',
        'spawner-channel',
        'api-loopback',
        'redis-loopback',
        'daemon-loopback',
        'api-gateway',
        'metadata',
        'route-delete',
        'capabilities',
        'mirror-objects',
        'mirror-replace',
        'mirror-config',
        'mirror-pack',
        ...hostAddresses().flatMap((a) => [`api-via-${a}`, `daemon-via-${a}`]),
      ];
      for (const name of expected)
        assert.ok(
          results.some(([n]) => n === name),
          `attack ${name} ran (log:\n${text})`,
        );
      const worked = results.filter(([n, r]) => r === 'SUCCEEDED' && n !== 'mirror-hook');
      assert.deepEqual(worked, [], `attacks that worked:\n${text}`);
      assert.ok(hostAddresses().length > 0, 'this machine has a non-loopback address to attack through');
      // The walls the step could not take down are there (set from outside the sandbox).
      assert.match(text, /ROUTE prohibit 10\.0\.2\.2 /);
      assert.match(text, /ROUTE prohibit 169\.254\.0\.0\/16 /);
      // The step sees its own checkout's replacement (its .git is its own) and nothing else.
      assert.match(text, /own checkout after replace: poisoned/);
    });

    it('left the host, the server and its Redis untouched', async () => {
      assert.equal((await fetch(`${base}/healthz`)).status, 200, 'the server answers');
      assert.equal(server.exitCode, null, 'the server process lives');
      assert.equal(readFileSync(join(dir, '.env'), 'utf8'), envBefore);
      assert.ok(!existsSync(`/usr/pushci-pwned-${tag}`));
      assert.ok(!existsSync(join(dir, `pwned-${tag}`)));
      assert.ok(!readFileSync('/etc/hosts', 'utf8').includes('pwned'));
      // Nobody reached the daemons on the host's loopback or on its other addresses.
      assert.deepEqual(lo.got, []);
      assert.deepEqual(any.got, []);
      // The mirror is as pushci left it: no hook, no replace ref, no foreign config, no planted object.
      assert.ok(!existsSync(join(mirror, 'hooks', 'post-checkout')));
      assert.deepEqual(
        execFileSync('git', ['-c', `safe.directory=${mirror}`, 'for-each-ref', 'refs/replace'], {
          cwd: mirror,
          encoding: 'utf8',
        }),
        '',
      );
      assert.doesNotMatch(readFileSync(join(mirror, 'config'), 'utf8'), /hooksPath/);
      assert.ok(!existsSync(join(mirror, 'objects', 'pwned')));
      // Redis still holds the build as the API shows it.
      const again = await build(attackId);
      assert.equal(again.status, 'failure');
      assert.equal(again.jobs.length, 8);
    });

    it('runs nothing a step put on the next step’s PATH outside the sandbox', async () => {
      const id = await push('octo-org/hijack', 'refs/heads/main', repo.commits[1]!);
      const b = await finished(id);
      const text = await log(id, 'hijack');
      assert.equal(b.status, 'success', text);
      // The attack was set up: the folder with the stand-ins leads the second step's PATH.
      assert.match(text, /HIJACK on PATH: \/\S+\/hijack:/);
      assert.match(text, /HIJACK still sandboxed/);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.startsWith('hijacked-')),
        [],
        'a stand-in ran outside the sandbox',
      );
    });

    it('a later build of another pipeline on another branch checks out clean content, no hook runs', async () => {
      const id = await push('octo-org/victim', 'refs/heads/other', repo.commits[2]!);
      const b = await finished(id);
      const text = await log(id, 'check');
      assert.equal(b.status, 'success', text);
      assert.match(text, /VICTIM clean/);
      assert.match(text, /VICTIM other other branch/);
      assert.doesNotMatch(text, /poisoned|HOOKED|VICTIM hook/);
    });

    it('gives the step nothing about the server in its environment', async () => {
      const text = await log(attackId, 'escape');
      const env = new Map(
        [...text.matchAll(/ENV ([^=\s]+)=(.*)/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
      );
      assert.equal(env.get('CI_BUILD_ID'), attackId);
      for (const k of env.keys()) assert.doesNotMatch(k, /^PUSHCI_|REDIS|WORKER|GITHUB_WEBHOOK/, k);
      for (const v of env.values()) {
        assert.ok(!v.includes(SECRET) && !v.includes(DEPLOY) && v !== String(server.pid));
      }
      assert.equal(env.get('TMPDIR'), '/tmp');
      assert.notEqual(env.get('HOME'), undefined);
    });

    it('ends every process a job started, whether it succeeded, failed, timed out or was cancelled', async () => {
      const timedOut = await log(attackId, 'daemons-timeout');
      assert.match(timedOut, /daemons started/, 'the step started its daemons before it timed out');
      assert.match(timedOut, /timed out/);
      const id = await push('octo-org/hang', 'refs/heads/main', repo.commits[1]!);
      await waitFor(async () => (/READY/.test(await log(id, 'hang')) ? true : null), 30_000, 'hang ready');
      const cancel = await call(`/api/builds/${id}/cancel`, { method: 'POST' });
      assert.ok(cancel.status < 300, await cancel.text());
      assert.equal((await finished(id)).status, 'canceled');
      await waitFor(async () => (leftovers().length === 0 ? true : null), 10_000, 'no daemon left');
      assert.deepEqual(leftovers(), []);
    });

    it('kill -KILL -1 in a step kills only that step', async () => {
      const text = await log(attackId, 'kill-everything');
      assert.match(text, /killing everything/, 'the step ran up to its kill');
      assert.doesNotMatch(text, /still here/);
      const jobs = (await finished(attackId)).jobs;
      assert.equal(jobs.find((j) => j.name === 'kill-everything')?.status, 'failure');
      // Only that step: its neighbours in the same build finished as they would have.
      assert.equal(jobs.find((j) => j.name === 'control')?.status, 'success');
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    });

    it('refuses a working-directory that a committed symlink leads out of the checkout', async () => {
      const j = attack.jobs.find((x) => x.name === 'symlink')!;
      assert.match(j.reason ?? '', /working directory "escape" .*leads outside the checkout/);
    });

    it('lets ordinary work through: files, /tmp, $HOME, git, child processes, outbound network', async () => {
      const text = await log(attackId, 'control');
      for (const line of [
        /CONTROL file artifact/,
        /CONTROL tmp tmp/,
        /CONTROL home home/,
        new RegExp(`CONTROL git ${repo.commits[1]} 0`),
        /CONTROL commit ok/,
        /CONTROL child \d+/,
        /CONTROL background done/,
        // The spawner-channel attack looks for sockets: the step's own output is one.
        /CONTROL stdout is a socket/,
        /CONTROL locked folders/,
      ])
        assert.match(text, line);
      // Outbound works wherever this machine itself has outbound (the test checked from the host).
      const escape = await log(attackId, 'escape');
      assert.match(escape, hostOutbound ? /OUTBOUND ok/ : /OUTBOUND failed/);
    });

    it('network: none has no network; network: host (opt-in) reaches the host loopback', async () => {
      const id = await push('octo-org/modes', 'refs/heads/main', repo.commits[1]!, `lo=${lo.port}`);
      const b = await finished(id);
      assert.equal(b.status, 'success');
      const none = attacks(await log(id, 'none'));
      assert.deepEqual(none, [
        ['none-default-route', 'BLOCKED'],
        ['none-outbound', 'BLOCKED'],
      ]);
      assert.match(await log(id, 'host'), /CONTROL host-mode reached loopback/);
      assert.deepEqual(lo.got, ['attack-host-mode']);
    });

    it('keeps the data dir and workspaces private (0700)', async () => {
      const data = join(dir, '.pushci');
      assert.equal(execFileSync('stat', ['-c', '%a', data], { encoding: 'utf8' }).trim(), '700');
      // Each workspace goes right after its job's result is stored.
      const workspaces = join(data, 'workspaces');
      await waitFor(() => readdirSync(workspaces).length === 0 || null, 10_000, 'the workspaces removed');
    });
  });
}
