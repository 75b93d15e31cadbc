// The build page's buttons: approve a fork's pull request, cancel, re-run all jobs or the failed ones.
import { flash, h, post } from './ui.js';

export const FAILED = new Set(['failure', 'error']);
export const ACTIVE = new Set(['running', 'queued', 'pending-approval']);

/** A button that runs `act`; a failure is flashed as "<what>: <message>". `after` runs either way. */
function actionButton(attrs, label, what, act, after) {
  const onclick = async () => {
    try {
      await act();
    } catch (err) {
      flash(`${what}: ${err.message}`);
    }
    await after?.();
  };
  return h('button', { ...attrs, onclick }, label);
}

/**
 * The buttons for build `b` (id `id`). `page` is the build page: `refresh()` reloads it, `cancel()`
 * cancels the build (and keeps its own state), `canceling` says a cancel is under way.
 */
export function buildActions(b, id, page) {
  const path = (action) => `/api/builds/${id}/${action}`;
  const open = async (action) => {
    const r = await post(path(action));
    location.hash = `#/builds/${r.builds[0].id}`;
  };
  const out = [];
  if (b.status === 'pending-approval' && !b.canceling)
    out.push(
      actionButton(
        { 'data-testid': 'approve', title: 'Let this pull request from a fork run (without secrets)' },
        'Approve and run',
        'Approve',
        () => post(path('approve'), { by: 'dashboard' }),
        page.refresh,
      ),
    );
  if (ACTIVE.has(b.status)) {
    const busy = page.canceling || b.canceling;
    out.push(
      actionButton(
        { class: 'danger', 'data-testid': 'cancel', disabled: busy },
        busy ? 'Canceling…' : 'Cancel',
        'Cancel',
        page.cancel,
        page.refresh,
      ),
    );
    return out;
  }
  out.push(
    actionButton(
      { 'data-testid': 'rerun', title: 'A new build of the same commit with every job' },
      'Re-run all jobs',
      'Re-run',
      () => open('rerun'),
    ),
  );
  if (b.jobs.some((j) => FAILED.has(j.status) || j.status === 'canceled'))
    out.push(
      actionButton(
        {
          'data-testid': 'rerun-failed',
          title: 'Again, on the same commit: the failed and canceled jobs and the jobs that need them',
        },
        'Re-run failed jobs',
        'Re-run failed jobs',
        () => open('rerun-failed'),
      ),
    );
  return out;
}
