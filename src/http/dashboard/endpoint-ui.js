// Small pieces both endpoint pages use: writes to the API, rates, the state badge.

/** A write: JSON, as the API's cross-site protection asks of every state-changing request. */
export const send = async (ui, method, path, body = {}) => {
  const init = { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  if (method !== 'DELETE') return ui.api(path, init);
  // 204 has no body for app.js's api() to parse.
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) ?? {}).message ?? `${res.status}`);
  return null;
};

export const pct = (rate) => (rate == null ? '—' : `${Math.round(rate * 1000) / 10}%`);

export const stateBadge = (ui, e) =>
  ui.h(
    'span',
    {
      class: `status ${e.state === 'active' ? 'success' : e.state === 'disabled' ? 'failure' : 'queued'}`,
      'data-state': e.state,
      title: e.state_reason ?? '',
    },
    e.state,
  );
