// The build page's heading: status, name, actions, forge links, what started it and how it went.
import { ACTIVE } from './build-actions.js';
import { duration, elapsed, h, headline, status, unsandboxed, when } from './ui.js';

function forgeLinks(b) {
  const l = b.links ?? {};
  const a = (href, text, testid) =>
    href
      ? h('a', { href, target: '_blank', rel: 'noopener', 'data-testid': testid }, text)
      : h('span', {}, text);
  return h(
    'span',
    { class: 'mono links' },
    a(l.repository, b.repository, 'link-repository'),
    ' ',
    b.pull_request ? a(l.pull_request, `#${b.pull_request.number}`, 'link-pull-request') : null,
    b.pull_request ? ' ' : null,
    b.tag
      ? a(l.tag, `tag ${b.tag}`, 'link-tag')
      : b.branch
        ? a(l.branch, b.branch, 'link-branch')
        : b.pull_request
          ? `${b.pull_request.source_branch} → ${b.pull_request.target_branch}`
          : b.ref,
    ' ',
    a(l.commit, b.sha.slice(0, 7), 'link-commit'),
  );
}

/** What started the build, in words: "pull_request #7 (fork: a/b feature → main)", "schedule 0 3 * * *". */
function eventText(b) {
  const pr = b.pull_request;
  if (b.event === 'pull_request' && pr)
    return `pull_request #${pr.number} (${pr.fork ? `fork ${pr.head_repository} ` : ''}${pr.source_branch} → ${pr.target_branch})`;
  if (b.event === 'schedule' && b.cron) return `schedule ${b.cron}`;
  const inputs = Object.entries(b.inputs ?? {});
  if (b.event === 'manual' && inputs.length > 0)
    return `manual (${inputs.map(([k, v]) => `${k}=${v}`).join(', ')})`;
  return b.event;
}

/** The heading's elements for build `b`, with its action buttons; the page's flash box goes under it. */
export function buildHeading(b, actions) {
  return [
    h(
      'div',
      { class: 'title' },
      h(
        'h2',
        {},
        b.canceling && ACTIVE.has(b.status) ? status('canceling') : status(b.status),
        ` ${b.pipeline} #${b.number}`,
        unsandboxed(b),
      ),
      h('div', { class: 'actions' }, ...actions),
    ),
    h(
      'p',
      { class: 'meta' },
      forgeLinks(b),
      headline(b) ? h('span', { class: 'message', 'data-testid': 'headline' }, ` ${headline(b)}`) : null,
    ),
    h(
      'p',
      { class: 'muted meta' },
      h('span', { 'data-testid': 'build-event' }, eventText(b)),
      `${b.pusher ? ` by ${b.pusher}` : ''} · created `,
      when(b.created_at),
      b.duration_ms != null
        ? ` · took ${duration(b.duration_ms)}`
        : b.started_at && ACTIVE.has(b.status)
          ? [' · running for ', elapsed(b.started_at, { 'data-testid': 'build-elapsed' })]
          : '',
      b.reason ? ` · ${b.reason}` : '',
      b.rerun_of
        ? [
            ' · re-run of ',
            h(
              'a',
              { href: `#/builds/${encodeURIComponent(b.rerun_of)}`, 'data-testid': 'rerun-of' },
              b.rerun_of,
            ),
          ]
        : null,
      b.approval
        ? h('span', { 'data-testid': 'approval' }, ` · approved by ${b.approval.by} `, when(b.approval.at))
        : null,
      b.superseded_by
        ? [' · superseded by ', h('a', { href: `#/builds/${b.superseded_by}` }, b.superseded_by)]
        : null,
    ),
    h('div', { id: 'flash' }),
  ];
}
