import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TestRepo {
  dir: string;
  /** Commit ids, oldest first. */
  commits: string[];
  git(...args: string[]): string;
  /** Adds a commit with these files on the current branch; returns its id. */
  commit(files: Record<string, string>, message?: string): string;
}

/** The environment the tests' own git commands run with: a fixed author, no system config. */
export const GIT_TEST_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** A real git repository on `main` with one commit per entry of `history`. */
export function makeRepo(history: Array<Record<string, string>> = [{ 'README.md': 'hello\n' }]): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'pushci-test-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, env: GIT_TEST_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  const commits: string[] = [];
  const commit = (files: Record<string, string>, message = `commit ${commits.length + 1}`) => {
    for (const [f, c] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), c);
    }
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    const sha = git('rev-parse', 'HEAD');
    commits.push(sha);
    return sha;
  };
  for (const files of history) commit(files);
  return { dir, commits, git, commit };
}
