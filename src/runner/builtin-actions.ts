import type { ActionRef } from '../pipelines/action-ref.ts';

type RemoteRef = Extract<ActionRef, { kind: 'remote' }>;

/** Actions pushci does itself instead of fetching them. */
export function builtinAction(ref: RemoteRef): 'checkout' | null {
  if (ref.owner.toLowerCase() === 'actions' && ref.repo.toLowerCase() === 'checkout' && ref.path === '')
    return 'checkout';
  return null;
}

/** Inputs of actions/checkout that pushci has no use for: the workspace already is the commit. */
const IGNORED = [
  'token',
  'ssh-key',
  'ssh-known-hosts',
  'ssh-strict',
  'ssh-user',
  'persist-credentials',
  'clean',
  'filter',
  'sparse-checkout',
  'sparse-checkout-cone-mode',
  'fetch-depth',
  'fetch-tags',
  'show-progress',
  'lfs',
  'submodules',
  'set-safe-directory',
  'github-server-url',
];

/**
 * What `actions/checkout` means here. The job's workspace already is the repository at the build's
 * commit, so the step does nothing unless `path:` asks for a second copy in a folder of the checkout;
 * another repository or another ref is refused with the reason. Inputs that make no difference are
 * named in the log.
 */
export function checkoutPlan(
  inputs: Readonly<Record<string, string>>,
  build: { repository: string; sha: string; ref: string },
): { problem: string } | { path: string | null; notes: string[] } {
  const get = (k: string) => {
    const e = Object.entries(inputs).find(([name]) => name.toLowerCase() === k);
    return e ? e[1].trim() : '';
  };
  const repository = get('repository');
  if (repository && repository.toLowerCase() !== build.repository.toLowerCase())
    return {
      problem: `actions/checkout of another repository (${repository}) is not supported: the workspace is ${build.repository}; clone other repositories in a run: step`,
    };
  const ref = get('ref');
  const short = build.ref.replace(/^refs\/(heads|tags)\//, '');
  if (ref && ![build.sha, build.ref, short].includes(ref))
    return {
      problem: `actions/checkout of ref "${ref}" is not supported: the workspace is the commit being built (${build.sha.slice(0, 12)}, ${build.ref}); run git checkout in a step if you need another one`,
    };
  const path = get('path');
  if (path && (path.startsWith('/') || path.split('/').includes('..') || path.startsWith('-')))
    return {
      problem: `actions/checkout: path "${path}" must be a folder inside the workspace (relative, without "..")`,
    };
  const notes: string[] = [];
  const ignored = IGNORED.filter((k) => get(k) !== '');
  if (ignored.length > 0)
    notes.push(
      `actions/checkout: ignored ${ignored.join(', ')}: the workspace already is the commit, with the history pushci's mirror has`,
    );
  const copy = path && path !== '.' && path !== './' ? path.replace(/\/+$/, '') : null;
  notes.push(
    copy
      ? `actions/checkout: a copy of the checkout goes to ${copy} (the workspace keeps its own)`
      : 'actions/checkout: nothing to do, the workspace already is the commit',
  );
  return { path: copy, notes };
}
