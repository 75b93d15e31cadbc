import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diskUsage } from './disk-usage.ts';
import { processExists } from './process-exists.ts';

/**
 * The size cap of the fetched actions under `<data dir>/actions/<owner>/<repo>/<commit>`: a folder's
 * last use is its modification time (set whenever a job takes it), and past `maxBytes` the least
 * recently used folders go first. A folder a running job holds is never removed: the job writes a hold
 * (`.held/<owner>+<repo>+<commit>+<pid>+<random>`) before it looks the folder up and removes it when it
 * ends; a hold whose process is gone (a crashed worker) counts for nothing and is cleared.
 */
export class ActionsCache {
  readonly #root: string;
  readonly #maxBytes: number;
  #trimming: Promise<void> = Promise.resolve();

  constructor(root: string, maxBytes: number) {
    this.#root = root;
    this.#maxBytes = maxBytes;
  }

  /** A job's holds: `take` before a folder is looked up, `release` when the job has ended. */
  holds(): ActionHolds {
    const held = join(this.#root, '.held');
    const mine: string[] = [];
    return {
      take: async (owner, repo, commit) => {
        await mkdir(held, { recursive: true, mode: 0o700 });
        const name = `${owner}+${repo}+${commit}+${process.pid}+${randomBytes(6).toString('hex')}`;
        await writeFile(join(held, name), '', { mode: 0o600 });
        mine.push(name);
      },
      release: async () => {
        await Promise.all(mine.splice(0).map((n) => unlink(join(held, n)).catch(() => {})));
      },
    };
  }

  /** Marks a folder used now, and remembers its size for the cap. */
  async used(dir: string, bytes?: number): Promise<void> {
    const now = new Date();
    await utimes(dir, now, now).catch(() => {});
    if (bytes !== undefined) await writeFile(`${dir}.size`, String(bytes), { mode: 0o600 });
  }

  /** Removes least recently used folders until the total is under the cap; one trim at a time. */
  trim(): Promise<void> {
    if (this.#maxBytes <= 0) return Promise.resolve();
    this.#trimming = this.#trimming.then(() => this.#trim()).catch(() => {});
    return this.#trimming;
  }

  async #trim(): Promise<void> {
    const folders = await this.#folders();
    let total = folders.reduce((n, f) => n + f.bytes, 0);
    if (total <= this.#maxBytes) return;
    const held = await this.#heldNow();
    for (const f of folders.sort((a, b) => a.usedMs - b.usedMs)) {
      if (total <= this.#maxBytes) break;
      if (held.has(f.key)) continue;
      // Out of the way first, then the holds read again: a job that took this folder between the two
      // reads gets it back.
      const away = join(this.#root, `.tmp-evict-${randomBytes(8).toString('hex')}`);
      if (
        !(await rename(f.dir, away).then(
          () => true,
          () => false,
        ))
      )
        continue;
      if ((await this.#heldNow()).has(f.key)) {
        await rename(away, f.dir).catch(() => rm(away, { recursive: true, force: true }));
        continue;
      }
      await rm(away, { recursive: true, force: true });
      await unlink(`${f.dir}.size`).catch(() => {});
      total -= f.bytes;
    }
  }

  /** `owner+repo+commit` of every folder a live process holds; holds of dead processes are removed. */
  async #heldNow(): Promise<Set<string>> {
    const dir = join(this.#root, '.held');
    const names = await readdir(dir).catch(() => [] as string[]);
    const keys = new Set<string>();
    for (const n of names) {
      const [owner, repo, commit, pid] = n.split('+');
      if (pid !== undefined && processExists(Number(pid))) keys.add(`${owner}+${repo}+${commit}`);
      else await unlink(join(dir, n)).catch(() => {});
    }
    return keys;
  }

  async #folders(): Promise<Array<{ key: string; dir: string; bytes: number; usedMs: number }>> {
    const out: Array<{ key: string; dir: string; bytes: number; usedMs: number }> = [];
    for (const owner of await readdir(this.#root).catch(() => [] as string[])) {
      if (owner.startsWith('.')) continue;
      for (const repo of await readdir(join(this.#root, owner)).catch(() => [] as string[])) {
        for (const commit of await readdir(join(this.#root, owner, repo)).catch(() => [] as string[])) {
          if (!/^[0-9a-f]{40}$/.test(commit)) continue;
          const dir = join(this.#root, owner, repo, commit);
          const st = await lstat(dir).catch(() => null);
          if (!st?.isDirectory()) continue;
          const recorded = Number(await readFile(`${dir}.size`, 'utf8').catch(() => ''));
          const bytes = recorded > 0 ? recorded : ((await diskUsage(dir)) ?? 0);
          out.push({ key: `${owner}+${repo}+${commit}`, dir, bytes, usedMs: st.mtimeMs });
        }
      }
    }
    return out;
  }
}

const perFolder = new Map<string, ActionsCache>();

/** The one `ActionsCache` of this process for a folder (its trims run one at a time). */
export function actionsCacheAt(root: string, maxBytes: number): ActionsCache {
  let c = perFolder.get(root);
  if (!c) perFolder.set(root, (c = new ActionsCache(root, maxBytes)));
  return c;
}

export interface ActionHolds {
  take(owner: string, repo: string, commit: string): Promise<void>;
  release(): Promise<void>;
}
