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
      ...props,
    };
    this.sections.push(s);
    this.emit('section', s);
    return s;
  }

  /** Adds one raw line; returns the parsed line. */
  add(raw) {
    const line = parseLine(raw, this.lines.length + 1);
    this.lines.push(line);
    const text = line.text;
    let m;
    if (line.stream === 'sys' && (m = STEP_START.exec(text))) {
      this.finishOpen(line.t, m[1]);
      this.group = null;
      this.current = this.open({ kind: 'step', name: m[1], shell: m[2] ?? null, start: line.t });
    } else if (line.stream === 'sys' && (m = STEP_END.exec(text))) {
      const status = ENDINGS[m[2]];
      // An action's end comes after the steps inside it (`<action> / <step>`): it closes the action's
      // section, and the line stays with the last of them, so lines keep their order on the page.
      const action = this.current?.name !== m[1] ? this.openAction(m[1]) : null;
      if (action) {
        action.status = status;
        action.end = line.t;
        this.emit('status', action);
      } else {
        if (status === 'skipped' && !(this.current?.kind === 'step' && this.current.name === m[1])) {
          // A step skipped by its `if:` never started: it gets a section of its own.
          this.finishOpen(line.t, m[1]);
          this.current = this.open({ kind: 'step', name: m[1], start: line.t });
        }
        this.group = null;
        this.current ??= this.open({ kind: 'step', name: m[1], start: line.t });
        this.current.status = status;
        this.current.end = line.t;
        this.emit('status', this.current);
      }
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
    return line;
  }

  /** A `uses:` step still open whose steps are running: the section of `name`'s end line, or null. */
  openAction(name) {
    return (
      this.sections.findLast(
        (s) => s.status === 'running' && s.name === name && s.shell?.startsWith('uses: '),
      ) ?? null
    );
  }

  /**
   * The set-up section ends when the first step starts; a step left open ends where the next starts,
   * unless the next is one of its own (an action's steps, `<action> / <step>`): that one ends with its
   * end line.
   */
  finishOpen(t, next) {
    for (const s of this.sections) {
      if (s.status !== 'running' || next.startsWith(`${s.name} / `)) continue;
      s.status = s.kind === 'setup' ? 'success' : 'unknown';
      s.end = t;
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
