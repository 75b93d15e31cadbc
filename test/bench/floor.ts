import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-job floor: the work a trivial sandboxed job cannot avoid, done by shell loops with no
 * bookkeeping at all. Each job is a `git worktree add` of the commit from a local bare mirror, `bash -c
 * true` in bubblewrap with its own user, PID and network namespaces and the worktree bound read-write,
 * then `git worktree remove`. `lanes` loops run side by side (the concurrency pushci gets), each on a
 * mirror of its own.
 */
const LOOP = `
set -e
mirror=$1 sha=$2 work=$3 lane=$4 n=$5
for i in $(seq 1 "$n"); do
  dir="$work/$lane-$i"
  git --git-dir="$mirror" worktree add -q --detach "$dir" "$sha"
  bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-user --unshare-pid --unshare-net \\
    --die-with-parent --new-session --bind "$dir" "$dir" --chdir "$dir" -- bash -c true
  git --git-dir="$mirror" worktree remove --force "$dir"
done`;

export interface Floor {
  /** Bare mirrors of the repository, one per lane (git's worktree bookkeeping is not safe to share). */
  mirrors: string[];
  repoDir: string;
  sha: string;
}

export function makeFloor(repoDir: string, sha: string): Floor {
  return { mirrors: [], repoDir, sha };
}

function mirror(f: Floor, lane: number): string {
  while (f.mirrors.length <= lane) {
    const m = join(mkdtempSync(join(tmpdir(), 'pushci-bench-floor-')), 'mirror.git');
    execFileSync('git', ['clone', '-q', '--bare', f.repoDir, m]);
    f.mirrors.push(m);
  }
  return f.mirrors[lane]!;
}

/** Runs `jobs` floor jobs over `lanes` parallel loops; resolves with the wall time in ms. */
export async function runFloor(f: Floor, jobs: number, lanes: number): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'pushci-bench-floor-w-'));
  const per = Array.from({ length: lanes }, (_, i) => Math.floor(jobs / lanes) + (i < jobs % lanes ? 1 : 0));
  const mirrors = per.map((_, lane) => mirror(f, lane));
  // BENCH_FLOOR_TOPDIR=1: the floor's folders get the TOPDIR flag pushci gives its workspaces folder
  // (prepare-workspaces-root.ts): its worktrees and each mirror's worktree records, spread over ext4's
  // block groups. Off by default: the floor is the loop the issue describes.
  if (process.env.BENCH_FLOOR_TOPDIR === '1')
    for (const dir of [work, ...mirrors.map((m) => join(m, 'worktrees'))]) {
      mkdirSync(dir, { recursive: true });
      execFileSync('chattr', ['+T', dir]);
    }
  const t0 = performance.now();
  await Promise.all(
    per
      .filter((n) => n > 0)
      .map(
        (n, lane) =>
          new Promise<void>((resolve, reject) => {
            const p = spawn(
              'bash',
              ['-c', LOOP, 'floor', mirrors[lane]!, f.sha, work, String(lane), String(n)],
              {
                stdio: ['ignore', 'ignore', 'inherit'],
              },
            );
            p.on('error', reject);
            p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`floor loop exited ${code}`))));
          }),
      ),
  );
  return performance.now() - t0;
}
