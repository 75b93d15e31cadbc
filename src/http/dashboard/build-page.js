// The build page: what failed, at a glance. The failed (or running) job is selected, its log follows
// live in step sections, and the build's deliveries sit underneath.
import { ACTIVE, FAILED, buildActions } from './build-actions.js';
import { buildHeading } from './build-head.js';
import { deliveryTable } from './deliveries.js';
import { jobGraph } from './graph.js';
import { logView } from './log-view.js';
import { api, duration, elapsed, h, post, status } from './ui.js';

/** The job a page opens on: the first failed one, else the first running, else the first. */
export function pickJob(jobs) {
  return (
    jobs.find((j) => FAILED.has(j.status)) ??
    jobs.find((j) => j.status === 'running') ??
    jobs.find((j) => j.status === 'queued') ??
    jobs.find((j) => j.status === 'canceled') ??
    jobs[0]
  )?.name;
}

const hrefOf = (id, job, line) =>
  `#/builds/${encodeURIComponent(id)}/${encodeURIComponent(job)}${line ? `/L${line}` : ''}`;

/** Renders the build page into `main`; returns the page's controller for the router. */
export async function buildPage(main, id, wanted = {}) {
  let b = await api(`/api/builds/${encodeURIComponent(id)}`);
  let deliveries =
    (await api(`/api/deliveries?build=${encodeURIComponent(id)}`).catch(() => null))?.deliveries ?? [];
  const artifactsOf = () =>
    api(`/api/builds/${encodeURIComponent(id)}/artifacts`)
      .then((r) => r.artifacts)
      .catch(() => null);
  let artifacts = (await artifactsOf()) ?? [];
  let job = wanted.job && b.jobs.some((j) => j.name === wanted.job) ? wanted.job : pickJob(b.jobs);
  let log = null;
  let canceling = false;
  const actionsPage = {
    get canceling() {
      return canceling;
    },
    async cancel() {
      canceling = true;
      drawHead();
      try {
        await post(`/api/builds/${id}/cancel`);
      } catch (err) {
        canceling = false;
        throw err;
      }
      // Applied: the heading says so now; "canceled" follows when the jobs' processes are gone.
      b = { ...b, canceling: true };
      drawHead();
    },
    refresh: () => refresh(),
  };

  const head = h('div', {});
  const graph = h('div', {});
  const jobHead = h('div', { class: 'job-head' });
  const logSlot = h('div', {});
  const noteSlot = h('div', {});
  const summarySlot = h('div', {});
  const deliverySlot = h('div', {});
  const artifactSlot = h('div', {});

  function drawHead() {
    head.replaceChildren(...buildHeading(b, buildActions(b, id, actionsPage)));
  }

  function drawGraph() {
    graph.replaceChildren(jobGraph(b.jobs, job, (name) => hrefOf(id, name)));
  }

  function drawJobHead() {
    const j = b.jobs.find((x) => x.name === job);
    if (!j) return jobHead.replaceChildren();
    jobHead.replaceChildren(
      h(
        'h3',
        { 'data-testid': 'job-title' },
        status(j.status),
        ` ${j.display_name ?? j.name} `,
        h(
          'span',
          { class: 'muted' },
          j.status === 'running' && j.started_at ? elapsed(j.started_at) : duration(j.duration_ms),
          j.reason ? ` · ${j.reason}` : '',
        ),
      ),
    );
  }

  function openLog(line) {
    log?.stop();
    if (!job) {
      logSlot.replaceChildren(h('p', { class: 'muted' }, 'This build has no jobs.'));
      return;
    }
    log = logView({
      build: id,
      job,
      lineHref: (n) => hrefOf(id, job, n),
      target: line ?? null,
      // Jobs starting publish no event: the first line of a job shown as waiting means it started.
      onFirstLine: () => {
        const j = b.jobs.find((x) => x.name === job);
        if (j && (j.status === 'queued' || j.status === 'pending')) void refresh().catch(() => {});
      },
    });
    logSlot.replaceChildren(log.el);
    const shown = log;
    void shown.follow().then(() => {
      // The stream ends when the job does: close what is open with the job's result.
      const j = b.jobs.find((x) => x.name === shown.job);
      if (j && !ACTIVE.has(j.status) && j.status !== 'pending') shown.finish(j.status, j.finished_at);
    });
    log.job = job;
  }

  /**
   * Every job's `::error::`/`::warning::`/`::notice::` lines in one list above the log, as on GitHub;
   * each opens its job. Text only: what a step printed never becomes markup.
   */
  function drawAnnotations() {
    const all = b.jobs.flatMap((j) => (j.annotations ?? []).map((a) => ({ ...a, job: j })));
    if (all.length === 0) return noteSlot.replaceChildren();
    const order = { error: 0, warning: 1, notice: 2 };
    all.sort((x, y) => order[x.level] - order[y.level]);
    const where = (a) =>
      a.file ? ` ${a.file}${a.line !== null ? `:${a.line}${a.col !== null ? `:${a.col}` : ''}` : ''}` : '';
    noteSlot.replaceChildren(
      h('h3', {}, `Annotations (${all.length})`),
      h(
        'ul',
        { class: 'annotations', 'data-testid': 'annotations' },
        ...all.map((a) =>
          h(
            'li',
            { class: `annotation ${a.level}`, 'data-level': a.level },
            h(
              'span',
              { class: 'level' },
              a.level === 'error' ? '✘ error' : a.level === 'warning' ? '! warning' : 'i notice',
            ),
            ' ',
            h('a', { href: hrefOf(id, a.job.name) }, a.job.display_name ?? a.job.name),
            h('span', { class: 'muted' }, ` · ${a.step}${where(a)}`),
            h('div', { class: 'message' }, a.title ? `${a.title}: ${a.message}` : a.message),
          ),
        ),
      ),
    );
  }

  /** The shown job's $GITHUB_STEP_SUMMARY, as the text the steps wrote (never as HTML). */
  function drawSummary() {
    const j = b.jobs.find((x) => x.name === job);
    if (!j || !j.summary) return summarySlot.replaceChildren();
    summarySlot.replaceChildren(
      h('h3', {}, `Summary of ${j.display_name ?? j.name}`),
      h('pre', { class: 'step-summary', 'data-testid': 'step-summary' }, j.summary),
    );
  }

  // As the API serves it: the artifacts: key's .tar.gz, upload-artifact's .zip, or its single file.
  const fileOf = (a) =>
    a.format === 'zip' ? `${a.name}.zip` : a.format === 'file' ? a.file_name : `${a.name}.tar.gz`;

  function drawArtifacts() {
    if (artifacts.length === 0) return artifactSlot.replaceChildren();
    const size = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`);
    artifactSlot.replaceChildren(
      h('h3', {}, 'Artifacts'),
      h(
        'ul',
        { class: 'artifacts', 'data-testid': 'artifacts' },
        ...artifacts.map((a) =>
          h(
            'li',
            {},
            h(
              'a',
              {
                href: `/api/builds/${encodeURIComponent(id)}/artifacts/${encodeURIComponent(a.name)}`,
                download: a.format === 'file' ? a.file_name : `${b.pipeline}-${b.number}-${fileOf(a)}`,
                'data-testid': 'artifact-link',
              },
              fileOf(a),
            ),
            h(
              'span',
              { class: 'muted' },
              // A date: when() speaks of the past ("just now"), and this is ahead.
              ` ${size(a.size)} · from ${a.job} · kept until ${a.expires_at.slice(0, 10)}`,
            ),
          ),
        ),
      ),
    );
  }

  function drawDeliveries() {
    deliverySlot.replaceChildren(
      h('h3', {}, 'Deliveries'),
      deliveries.length === 0
        ? h('p', { class: 'muted' }, 'None: no endpoint or commit status wants this build’s events.')
        : deliveryTable(deliveries, { onRedelivered: refresh }),
    );
  }

  function drawAll() {
    drawHead();
    drawGraph();
    drawJobHead();
    drawAnnotations();
    drawSummary();
    drawArtifacts();
    drawDeliveries();
  }

  let refreshing = null;
  let again = false;
  /** Fetches the build again; calls that arrive meanwhile fold into one more fetch. */
  async function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        const [nb, nd, na] = await Promise.all([
          api(`/api/builds/${encodeURIComponent(id)}`),
          api(`/api/deliveries?build=${encodeURIComponent(id)}`).catch(() => null),
          artifactsOf(),
        ]);
        b = nb;
        if (nd) deliveries = nd.deliveries;
        if (na) artifacts = na;
        if (!ACTIVE.has(b.status)) canceling = false;
        drawAll();
        const j = b.jobs.find((x) => x.name === job);
        if (j && log && !ACTIVE.has(j.status) && j.status !== 'pending') log.finish(j.status, j.finished_at);
      } while (again);
    })().finally(() => (refreshing = null));
    return refreshing;
  }

  drawAll();
  main.replaceChildren(head, graph, noteSlot, jobHead, logSlot, summarySlot, artifactSlot, deliverySlot);
  openLog(wanted.line);

  // Jobs starting do not publish an event: while the build runs, look again now and then.
  const poll = setInterval(() => {
    if (ACTIVE.has(b.status)) void refresh().catch(() => {});
  }, 2000);

  return {
    kind: 'build',
    id,
    /** Same build, another job or line: no reload. */
    update(route) {
      if (route.id !== id) return false;
      const next = route.job && b.jobs.some((j) => j.name === route.job) ? route.job : job;
      if (next !== job) {
        job = next;
        drawGraph();
        drawJobHead();
        drawSummary();
        openLog(route.line);
      } else if (route.line) log?.target(route.line);
      return true;
    },
    onEvent(ev) {
      if (ev.id === id) void refresh().catch(() => {});
    },
    leave() {
      clearInterval(poll);
      log?.stop();
    },
  };
}
