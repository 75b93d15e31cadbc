// A new secret, shown once: the panel, and the hand-over from the page that created it to the one
// that shows it.

// A secret just created, for the endpoint page to show once (then forgotten).
let fresh = null;

/** Keeps a just-created endpoint's secret for its page to show once. */
export function keepSecret(id, secret) {
  fresh = { id, secret };
}

/** The secret kept for endpoint `id`, once; null after that or for another endpoint. */
export function takeSecret(id) {
  if (fresh?.id !== id) return null;
  const { secret } = fresh;
  fresh = null;
  return secret;
}

/** Shows a secret once, with a copy button; nothing keeps it after the page changes. */
export function secretPanel(ui, secret, what) {
  const copied = ui.h('span', { class: 'muted' });
  const value = ui.h('code', { class: 'secret', 'data-testid': 'secret' }, secret);
  return ui.h(
    'div',
    { class: 'secret-panel', 'data-testid': 'secret-panel' },
    ui.h('p', {}, ui.h('b', {}, what), ' Copy it now: it is shown only this once.'),
    value,
    ' ',
    ui.h(
      'button',
      {
        'data-testid': 'copy',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(secret);
            copied.textContent = ' copied';
          } catch {
            // No clipboard (plain http, or denied): select it for Ctrl+C instead.
            const range = document.createRange();
            range.selectNodeContents(value);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
            copied.textContent = ' selected: press Ctrl+C';
          }
        },
      },
      'Copy',
    ),
    copied,
  );
}
