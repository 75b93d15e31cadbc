import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bwrapArgs, homeInside } from '../../../src/runner/backends/sandbox/mounts.ts';
import { stepPrelude } from '../../../src/runner/backends/sandbox/network.ts';
import { standbyCommand } from '../../../src/runner/backends/sandbox/standby-sandbox.ts';
import { networkScript } from '../../../src/runner/backends/sandbox/attach-network.ts';
import { parseSize } from '../../../src/config.ts';

const root = '/srv/ci/.pushci/workspaces/b1-j-1';
const dirs = {
  root,
  src: `${root}/src`,
  scripts: `${root}/scripts`,
  tmp: `${root}/tmp`,
  home: `${root}/home`,
};
const plan = (over: Partial<Parameters<typeof bwrapArgs>[0]> = {}) =>
  bwrapArgs({
    dirs,
    hide: ['/srv/ci', '/srv/ci/.pushci', '/srv/ci/pipelines'],
    home: '/home/ci',
    readOnly: ['/srv/ci/.pushci/mirrors/abc.git/objects'],
    network: 'default',
    resolvConf: null,
    ...over,
  });
/** The (option, path...) groups of an argument list, in order. */
const ops = (a: string[]) => {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const o = a[i]!;
    if (['--bind', '--ro-bind'].includes(o)) out.push(`${o} ${a[++i]} ${a[++i]}`);
    else if (['--tmpfs', '--remount-ro'].includes(o)) out.push(`${o} ${a[++i]}`);
  }
  return out;
};

describe('the sandbox mounts', () => {
  it('covers pushci folders with read-only tmpfs, shallowest first, then grants the job its own', () => {
    assert.deepEqual(ops(plan()), [
      '--ro-bind / /',
      '--tmpfs /run',
      `--bind ${dirs.tmp} /tmp`,
      // /dev/shm is the job's own folder on disk, and bubblewrap's /dev tmpfs (no limit counts it) read-only.
      `--bind ${root}/shm /dev/shm`,
      `--bind ${dirs.home} /home/ci`,
      // The data dir and pipelines folder are inside the covered working directory: no cover of their own.
      '--tmpfs /srv/ci',
      '--ro-bind /srv/ci/.pushci/mirrors/abc.git/objects /srv/ci/.pushci/mirrors/abc.git/objects',
      `--ro-bind ${dirs.scripts} ${dirs.scripts}`,
      `--bind ${dirs.src} ${dirs.src}`,
      '--remount-ro /srv/ci',
      '--remount-ro /run',
      '--remount-ro /dev',
    ]);
  });

  it('mounts the job’s /dev/shm before the grants, so a data dir under /dev/shm stays visible', () => {
    const r = '/dev/shm/pushci/workspaces/b1-j-1';
    const shmDirs = { root: r, src: `${r}/src`, scripts: `${r}/scripts`, tmp: `${r}/tmp`, home: `${r}/home` };
    const a = ops(plan({ dirs: shmDirs, hide: ['/dev/shm/pushci'] }));
    const at = (o: string) => a.indexOf(o);
    assert.ok(at(`--bind ${r}/shm /dev/shm`) >= 0, a.join('\n'));
    assert.ok(
      at(`--bind ${r}/shm /dev/shm`) < at('--tmpfs /dev/shm/pushci'),
      'the cover goes on the job’s /dev/shm',
    );
    assert.ok(
      at('--tmpfs /dev/shm/pushci') < at(`--bind ${r}/src ${r}/src`),
      'the checkout is granted after both',
    );
    assert.ok(at(`--ro-bind ${r}/scripts ${r}/scripts`) > at(`--bind ${r}/shm /dev/shm`));
  });

  it('covers nothing inside the job’s own /tmp or $HOME but what holds a grant (a data dir under /tmp)', () => {
    const r = '/tmp/ci/.pushci/workspaces/b1-j-1';
    const tmpDirs = { root: r, src: `${r}/src`, scripts: `${r}/scripts`, tmp: `${r}/tmp`, home: `${r}/home` };
    const a = ops(
      plan({
        dirs: tmpDirs,
        hide: ['/tmp/ci/.pushci', '/tmp/pipelines', '/home/ci/.config/pushci', '/srv/pipelines'],
        readOnly: ['/tmp/ci/.pushci/mirrors/abc.git/objects'],
      }),
    );
    // The host's /tmp/pipelines and ~/.config/pushci are out of sight already (the job's /tmp and $HOME
    // replace theirs): a cover would only make an empty folder in the job's own.
    assert.ok(!a.includes('--tmpfs /tmp/pipelines'), a.join('\n'));
    assert.ok(!a.includes('--tmpfs /home/ci/.config/pushci'), a.join('\n'));
    // The data dir holds the checkout and scripts: covered, on top of the job's /tmp, before the grants.
    assert.ok(a.indexOf(`--bind ${r}/tmp /tmp`) < a.indexOf('--tmpfs /tmp/ci/.pushci'), a.join('\n'));
    assert.ok(a.indexOf('--tmpfs /tmp/ci/.pushci') < a.indexOf(`--bind ${r}/src ${r}/src`));
    // Elsewhere, covered as before.
    assert.ok(a.includes('--tmpfs /srv/pipelines'));
  });

  it('never covers the root or a folder holding the system', () => {
    const a = ops(plan({ hide: ['/', '/usr', '/usr/local', '/etc', '/srv/data'], home: '/' }));
    assert.ok(!a.includes('--tmpfs /'));
    assert.ok(!a.some((o) => /^--tmpfs \/(usr|etc)/.test(o)));
    assert.ok(a.includes('--tmpfs /srv/data'));
    // A home that cannot be covered: the job's home is shown at its own path instead.
    assert.equal(homeInside({ home: '/', dirs }), dirs.home);
    assert.ok(a.includes(`--bind ${dirs.home} ${dirs.home}`));
  });

  it('keeps the host network only for network: host, and runs as uid 0 without capabilities', () => {
    assert.ok(plan().includes('--unshare-net'));
    assert.ok(plan({ network: 'none' }).includes('--unshare-net'));
    assert.ok(!plan({ network: 'host' }).includes('--unshare-net'));
    // In a worker slot's network: none of its own, but still a user namespace of its own nested there
    // (the one that owns the slot's network stays out of the step's reach).
    const slot = plan({ slotNetwork: true });
    assert.ok(!slot.includes('--unshare-net') && slot.includes('--unshare-user'));
    assert.ok(plan({ network: 'none', slotNetwork: false }).includes('--unshare-net'));
    const a = plan();
    assert.deepEqual(a.slice(a.indexOf('--cap-drop'), a.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
    assert.ok(a.includes('--unshare-pid') && a.includes('--die-with-parent') && a.includes('--new-session'));
  });

  it('shows a private resolv.conf when the host resolver is on its loopback', () => {
    assert.ok(
      ops(plan({ resolvConf: `${dirs.scripts}/resolv.conf` })).includes(
        `--ro-bind ${dirs.scripts}/resolv.conf /etc/resolv.conf`,
      ),
    );
  });
});

describe('the step command', () => {
  it('sets its limits with the shell, says it is up, then runs the step; it holds no capability to drop', () => {
    const prelude = stepPrelude({ nofile: 1024, fsize: 8 * 2 ** 20 + 100 });
    // File size in 512-byte blocks, rounded down (never above the limit).
    assert.equal(prelude, 'ulimit -n 1024 && ulimit -f 16384 || exit 125; printf . >&5; exec 5>&-; ');
    assert.equal(stepPrelude(), 'printf . >&5; exec 5>&-; ');
    assert.throws(() => stepPrelude({ nofile: Number.NaN }), /not a limit/);
    // The standby's command: its check that the command was sent, its own check of "go" (see
    // sandbox-orphans.test.ts), the prelude, then the step's command (whose words arrive as variables:
    // see sandbox-standby.test.ts).
    const argv = standbyCommand({ nofile: 1024, fsize: 8 * 2 ** 20 + 100 });
    assert.equal(argv[0], '/bin/sh');
    assert.equal(argv[1], '-c');
    assert.match(argv[2]!, /^case "\$PUSHCI_STANDBY_ARGC" in ''\|\*\[!0-9\]\*\) exit 125;; esac; /);
    assert.ok(
      argv[2]!.includes(
        `esac; IFS= read -r PUSHCI_STANDBY_GO <&5; case "$PUSHCI_STANDBY_GO" in go) ;; *) exit 125;; esac; unset PUSHCI_STANDBY_GO; ${prelude}case "\${PUSHCI_STANDBY_ENVC:-0}" in 0) set --;; `,
      ),
      argv[2],
    );
    assert.ok(argv[2]!.endsWith('exec "$@"'), argv[2]);
    assert.deepEqual(argv.slice(3), ['pushci-step']);
  });
});

describe('the network helper', () => {
  const blocked = ['192.0.2.2/32', '169.254.0.0/16'];
  const forward = { port: 31000, socket: '/data/gw/abc.sock' };

  it('walls off this machine first, then starts slirp4netns and the forwarder, which keeps no fd of the worker', () => {
    const lines = networkScript(42, { blocked, forward }).split('\n');
    assert.deepEqual(lines, [
      `nsenter -t 42 -U -n --preserve-credentials -- ip -batch - <<'ROUTES' || { echo "could not set the routes that wall off this machine" >&2; exit 125; }`,
      'route add prohibit 192.0.2.2/32',
      'route add prohibit 169.254.0.0/16',
      'ROUTES',
      'slirp4netns --configure --mtu=65520 --disable-host-loopback --ready-fd=3 --exit-fd=4 42 tap0 &',
      'exec 3>&- 4>&-',
      'exec nsenter -t 42 -U -n --preserve-credentials -- socat -d -d TCP-LISTEN:31000,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:/data/gw/abc.sock',
    ]);
  });

  it('becomes slirp4netns without a forwarder, and only the forwarder without a network', () => {
    assert.match(networkScript(42, { blocked, forward: null }), /\nexec slirp4netns .* 42 tap0$/);
    assert.doesNotMatch(networkScript(42, { blocked: null, forward }), /slirp4netns|ip -batch/);
  });

  it('refuses anything that is not an address, a port, a pid or a plain socket path', () => {
    assert.throws(() => networkScript(42, { blocked: ['1.2.3.4/32; rm -rf /'], forward }), /not an address/);
    assert.throws(
      () => networkScript(42, { blocked, forward: { ...forward, socket: '/x y' } }),
      /socket path/,
    );
    assert.throws(() => networkScript(42, { blocked, forward: { ...forward, port: 70000 } }), /not a port/);
    assert.throws(() => networkScript(Number.NaN, { blocked, forward }), /not a pid/);
  });
});

describe('sizes in settings', () => {
  it('reads binary units and bare bytes, and refuses anything else', () => {
    assert.equal(parseSize('512M'), 512 * 2 ** 20);
    assert.equal(parseSize('8G'), 8 * 2 ** 30);
    assert.equal(parseSize('8GiB'), 8 * 2 ** 30);
    assert.equal(parseSize('1.5k'), 1536);
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('0'), 0);
    assert.throws(() => parseSize('8 gigabytes'), /not a size/);
    assert.throws(() => parseSize('-1'), /not a size/);
  });
});
