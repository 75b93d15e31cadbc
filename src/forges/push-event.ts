import type { PushEvent } from '../core/event.ts';
import type { ForgeName } from '../model.ts';
import { ZERO_SHA, splitRef } from './payload.ts';

/** A push as a forge's parser read it: commit ids checked, `ref` as pushed. */
export interface RawPush {
  forge: ForgeName;
  deliveryId: string;
  repository: string;
  ref: string;
  before: string;
  after: string;
  /** What the forge says beyond the zero commit ids (GitHub's `deleted`, `created`, `forced`). */
  deleted?: boolean;
  created?: boolean;
  forced?: boolean;
  headMessage: string | null;
  pusher: string | null;
}

/** The one push event: branch or tag from the ref, deleted/created when the forge says so or a side is all zeros. */
export function pushEvent(r: RawPush): PushEvent {
  return {
    forge: r.forge,
    deliveryId: r.deliveryId,
    repository: r.repository,
    ref: r.ref,
    ...splitRef(r.ref),
    before: r.before,
    after: r.after,
    deleted: r.deleted === true || ZERO_SHA.test(r.after),
    created: r.created === true || ZERO_SHA.test(r.before),
    forced: r.forced === true,
    headMessage: r.headMessage,
    pusher: r.pusher,
  };
}
