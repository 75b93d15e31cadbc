import type { OutboundEventType } from '../model.ts';
import type { CompileContext, Path } from './compile-context.ts';
import { findReferences } from './expressions.ts';
import type { NotifyDef } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';

const DEFAULT_EVENTS: OutboundEventType[] = ['build.queued', 'build.started', 'build.completed'];

/** `notify:`: where build events go; secrets must come from the server's environment, never the file. */
export function compileNotify(cx: CompileContext, data: PipelineFile): NotifyDef[] {
  return (data.notify ?? []).map((n, i) => {
    const np: Path = ['notify', i];
    cx.checkRefs(n.url, [...np, 'url']);
    const secrets = Array.isArray(n.secret) ? n.secret : [n.secret];
    secrets.forEach((s, k) => {
      const sp = Array.isArray(n.secret) ? [...np, 'secret', k] : [...np, 'secret'];
      cx.checkRefs(s, sp);
      if (findReferences(s).length === 0) {
        cx.report(
          cx.pos.of(sp),
          'write the secret as ${{ env.NAME }} or ${{ secrets.NAME }}; literal secrets do not belong in pipeline files',
        );
      }
    });
    return {
      url: n.url,
      secrets,
      events: (n.events as OutboundEventType[] | undefined) ?? DEFAULT_EVENTS,
      branches: cx.globs(n.branches, [...np, 'branches'], true),
    };
  });
}
