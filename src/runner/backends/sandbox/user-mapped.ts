import { readFile } from 'node:fs/promises';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once the user namespace of `pid` (a sandbox bubblewrap is setting up) has its uid map.
 * bubblewrap (not setuid) writes the map from inside, a moment after it reported the sandbox's pid;
 * until then a program entered into that namespace with `nsenter -U` and exec'd there is nobody
 * and keeps no capability (an `ip route add` then fails with EPERM). Rejects when the sandbox is gone
 * or has no map after `timeoutMs`.
 */
export async function userMapped(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    let map: string;
    try {
      map = await readFile(`/proc/${pid}/uid_map`, 'utf8');
    } catch {
      throw new Error('the sandbox ended while it was being set up');
    }
    if (map.trim() !== '') return;
    if (Date.now() > deadline) throw new Error('the sandbox got no user mapping in time');
    await sleep(wait);
  }
}
