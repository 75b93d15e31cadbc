// A job's log as sections: "Set up job", one section per step, and `::group::` sections inside a step.
// Pure (no DOM), so it is tested in Node as well as in the browser. Lines arrive as the API's text
// (`<ISO time> <mark> <text>`, mark `!` stderr, `#` pushci's own lines); the runner marks a step's start
// with `▶ name  (shell)` and its end with `pushci: step "name" succeeded|failed …`.

const STEP_START = /^▶ (.*?)(?: {2}\((.*)\))?$/;
// A service's log comes as a section of its own when the job ends (`▶ service <id>`), closed the same way.
const STEP_END =
  /^pushci: (?:step|service) "(.*)" (succeeded|failed|canceled|timed out|skipped|exceeded|was killed|stopped)/;
// A group's start: the runner's rendering of `::group::title` (`▸ title`), or the raw command.
const GROUP_START = /^(?:▸ |::group::)(.*)$/;
const GROUP_END = /^::endgroup::\s*$/;

const ENDINGS = {
  succeeded: 'success',
  failed: 'failure',
  canceled: 'canceled',
  'timed out': 'failure',
  exceeded: 'failure',
  'was killed': 'failure',
  skipped: 'skipped',
  stopped: 'success',
};

const isAction = (s) => s.kind === 'step' && s.shell?.startsWith('uses: ') === true;

/** One line of the API's text log. */
export function parseLine(raw, n) {
  // `2026-01-01T00:00:00.000Z # text`: 24 characters of time, a space, the mark, a space.
  const t = Date.parse(raw.slice(0, 24));
  if (raw.length >= 26 && raw[24] === ' ' && !Number.isNaN(t)) {
    const mark = raw[25];
    return { n, t, stream: mark === '!' ? 'err' : mark === '#' ? 'sys' : 'out', text: raw.slice(27) };
  }
  return { n, t: null, stream: 'out', text: raw };
}

/**
 * The log of one job, built line by line. `sections` are in order; each holds its lines' numbers,
 * and steps hold `groups` (each with its lines) too. Listeners hear every change so a view can draw
 * only what is new.
 */
export class LogModel {
  constructor() {
    this.lines = [];
    this.sections = [];
    this.listeners = [];
    /** The section lines go to; the set-up section opens with the first line. */
    this.current = null;
    this.group = null;
  }

  on(fn) {
    this.listeners.push(fn);
  }

  emit(kind, ...args) {
    for (const fn of this.listeners) fn(kind, ...args);
  }

  open(props) {
    const s = {
      index: this.sections.length,
      status: 'running',
      start: null,
      end: null,
      lines: [],
      groups: [],
      parent: null,
      children: [],
      ...props,
    };
    this.sections.push(s);
    if (s.parent !== null) this.sections[s.parent].children.push(s.index);
    this.emit('section', s);
    return s;
  }

  /** Adds one raw line; returns the parsed line. */
  add(raw) {
    const line = parseLine(raw, this.lines.length + 1);
    this.lines.push(line);
    const text = line.text;
    let m;
    let ended = null;
    if (line.stream === 'sys' && (m = STEP_START.exec(text))) {
      const shell = m[2] ?? null;
      const parent = this.parentOf(m[1], shell);
      this.finishOpen(line.t, parent);
      this.group = null;
      this.current = this.open({
        kind: 'step',
        name: m[1],
        shell,
        start: line.t,
        parent: parent?.index ?? null,
      });
      if (isAction(this.current)) this.adoptPre(this.current);
    } else if (line.stream === 'sys' && (m = STEP_END.exec(text))) {
      const status = ENDINGS[m[2]];
      // An action's end comes after the steps inside it (`<action> / <step>`): it closes the action's
      // section, and the line goes in it, after its steps' sections.
      const action = this.current?.name !== m[1] ? this.openAction(m[1]) : null;
      if (action) this.current = action;
      else if (status === 'skipped' && !(this.current?.kind === 'step' && this.current.name === m[1])) {
        // A step skipped by its `if:` never started: it gets a section of its own.
        const parent = this.parentOf(m[1], null);
        this.finishOpen(line.t, parent);
        this.current = this.open({
          kind: 'step',
          name: m[1],
          start: line.t,
          parent: parent?.index ?? null,
        });
      }
      this.group = null;
      this.current ??= this.open({ kind: 'step', name: m[1], start: line.t });
      this.current.status = status;
      this.current.end = line.t;
      this.emit('status', this.current);
      ended = this.current;
    } else if (this.current?.kind === 'step' && (m = GROUP_START.exec(text)) && line.stream !== 'sys') {
      this.group = { title: m[1], lines: [], start: line.n };
      this.current.groups.push(this.group);
      this.current.lines.push(line.n);
      line.section = this.current.index;
      line.opens = this.group;
      this.emit('group', this.current, this.group);
      this.emit('line', line, this.current, null);
      return line;
    } else if (GROUP_END.test(text) && this.group) {
      this.group = null;
      line.hidden = true;
    }
    this.current ??= this.open({ kind: 'setup', name: 'Set up job' });
    if (this.current.start === null) this.current.start = line.t;
    this.current.lines.push(line.n);
    line.section = this.current.index;
    if (this.group) this.group.lines.push(line.n);
    this.emit('line', line, this.current, this.group);
    // Past the end of a step inside an action, lines are the action's again (until its next step).
    const up = ended?.parent != null ? this.sections[ended.parent] : null;
    if (up?.status === 'running') this.current = up;
    return line;
  }

  /**
   * The action section a step belongs in: an action's own steps (`<action> / <step>`) in the running
   * action's; its `Pre <action>` (run inside a composite action, right before its main) in the running
   * action's; its `Post <action>` (at the job's end, shown without a shell) in the action's, ended by
   * then. A `Pre` run at the job's start comes before its action: adoptPre moves it in later.
   */
  parentOf(name, shell) {
    let best = null;
    for (const s of this.sections) {
      if (s.status !== 'running' || !isAction(s) || !name.startsWith(`${s.name} / `)) continue;
      if (!best || s.name.length > best.name.length) best = s;
    }
    if (best) return best;
    if (name.startsWith('Pre ') && shell !== null && shell.includes(', with '))
      return (
        this.sections.findLast((s) => s.status === 'running' && isAction(s) && s.name === name.slice(4)) ??
        null
      );
    if (name.startsWith('Post ') && shell === null)
      return this.sections.findLast((s) => isAction(s) && s.name === name.slice(5)) ?? null;
    return null;
  }

  /** An action's `Pre <action>` section, run at the job's start before any step, goes in the action's. */
  adoptPre(action) {
    const pre = this.sections.find(
      (s) => s.parent === null && s.name === `Pre ${action.name}` && s.shell?.includes(', with '),
    );
    if (!pre || pre.index > action.index) return;
    pre.parent = action.index;
    action.children.unshift(pre.index);
    this.emit('adopt', pre, action);
  }

  /** A `uses:` step still open whose steps are running: the section of `name`'s end line, or null. */
  openAction(name) {
    return this.sections.findLast((s) => s.status === 'running' && s.name === name && isAction(s)) ?? null;
  }

  /**
   * The set-up section ends when the first step starts; a step left open ends where the next starts,
   * unless the next is inside it (an action's steps or its pre): `keep` and the actions around it end
   * with their own end lines.
   */
  finishOpen(t, keep) {
    const around = new Set();
    for (let s = keep; s; s = s.parent === null ? null : this.sections[s.parent]) around.add(s);
    for (const s of this.sections) {
      if (s.status !== 'running' || around.has(s)) continue;
      s.status = s.kind === 'setup' ? 'success' : 'unknown';
      // A service's section starts at the service's own start, earlier than this step's: its end stays
      // unknown until the job's.
      s.end = t !== null && s.start !== null && t < s.start ? null : t;
      this.emit('status', s);
    }
  }

  /** The job is over: whatever is still open ends with it. */
  finish(jobStatus, t) {
    for (const s of this.sections) {
      if (s.status !== 'running') continue;
      // Open at the end: the step (or, before any step, the set-up) the job ended in.
      s.status = jobStatus;
      s.end ??= t;
      this.emit('status', s);
    }
  }
}
