import type { ApiClient } from './api-client.ts';
import { NotFoundError } from './errors.ts';
import { createTerminalFilter } from './terminal-text.ts';
import { isFinal, type Annotation, type BuildView } from './model.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `pushci logs`: prints a build's job logs in order; with `follow`, waits for each job to start and
 * streams its log live, showing progress on stderr. Returns 1 when the build ended other than in
 * success (failed, errored, cancelled, skipped), 0 when it succeeded or (without `follow`) still runs.
 */
export async function followBuild(
  api: ApiClient,
  id: string,
  opts: { job?: string | undefined; follow: boolean; json: boolean },
): Promise<number> {
  const get = () => api.json<BuildView>(`/api/builds/${encodeURIComponent(id)}`);
  let build = await get();
  const jobs = opts.job ? [opts.job] : build.jobs.map((j) => j.name);
  const tty = process.stderr.isTTY;
  for (const job of jobs) {
    if (!build.jobs.some((j) => j.name === job))
      throw new NotFoundError(
        `build ${id} has no job "${job}"; its jobs: ${build.jobs.map((j) => j.name).join(', ')}`,
      );
    if (opts.follow) {
      // Wait for the job to leave the queue, showing where the build is.
      for (;;) {
        const state = build.jobs.find((j) => j.name === job)!.status;
        if (state !== 'pending' && state !== 'queued') break;
        if (isFinal(build.status)) break;
        process.stderr.write(
          `${tty ? '\r' : ''}${build.pipeline}#${build.number} ${build.status}: ${job} is ${state}…${tty ? '' : '\n'}`,
        );
        await sleep(500);
        build = await get();
      }
      if (tty) process.stderr.write('\r\x1b[K');
    }
    process.stderr.write(`── ${job} ──\n`);
    const res = await api.fetch(
      `/api/builds/${encodeURIComponent(id)}/jobs/${encodeURIComponent(job)}/log${opts.follow ? '?follow=1' : ''}`,
    );
    if (process.stdout.isTTY) {
      // A job's output is untrusted: on a terminal, only its colours get through (see terminal-text.ts).
      const decoder = new TextDecoder();
      const filter = createTerminalFilter();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        process.stdout.write(filter.write(decoder.decode(chunk, { stream: true })));
      process.stdout.write(filter.write(decoder.decode()) + filter.end());
    } else
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
    build = await get();
    // How a job ended when not green, under its log: a skipped or canceled one often has no log at all.
    const ended = build.jobs.find((j) => j.name === job)!;
    // Its annotations and summary, as the build page shows them under the log.
    const out = (text: string) => {
      if (!process.stdout.isTTY) return process.stdout.write(text);
      const filter = createTerminalFilter();
      return process.stdout.write(filter.write(text) + filter.end());
    };
    if (ended.annotations.length > 0) {
      process.stderr.write(`── ${job}: ${ended.annotations.length} annotation(s) ──\n`);
      for (const a of ended.annotations) out(`${annotationLine(a)}\n`);
    }
    if (ended.summary) {
      process.stderr.write(`── ${job}: summary ──\n`);
      out(ended.summary.endsWith('\n') ? ended.summary : `${ended.summary}\n`);
    }
    if (isFinal(ended.status) && ended.status !== 'success')
      process.stderr.write(`${job}: ${ended.status}${ended.reason ? ` (${ended.reason})` : ''}\n`);
  }
  if (opts.follow) {
    while (!isFinal(build.status)) {
      await sleep(300);
      build = await get();
    }
  }
  const canceling =
    (build as { canceling?: boolean }).canceling && !isFinal(build.status) ? ' (canceling)' : '';
  const summary = `${build.pipeline}#${build.number} ${build.status}${canceling}${build.reason ? ` (${build.reason})` : ''}${build.duration_ms !== null ? ` in ${(build.duration_ms / 1000).toFixed(1)} s` : ''}`;
  if (opts.json) console.log(JSON.stringify(build));
  else process.stderr.write(`${summary}\n`);
  return build.status === 'success' || !isFinal(build.status) ? 0 : 1;
}

/** `error src/a.ts:12:3: Title: message (step "lint")`, as GitHub's log shows an annotation. */
export function annotationLine(a: Annotation): string {
  const where = a.file
    ? ` ${a.file}${a.line !== null ? `:${a.line}${a.col !== null ? `:${a.col}` : ''}` : ''}`
    : '';
  return `${a.level}${where}: ${a.title ? `${a.title}: ` : ''}${a.message.replace(/\n/g, ' ')} (step "${a.step}")`;
}
