import type { SpawnFn } from '../../spawner/start-spawner.ts';
import { blockedDestinations } from './network.ts';
import { startSlotNetwork, type SlotNetwork } from './slot-network.ts';

/** The slot networks of one worker: as many as jobs ran at once, each reused by one job after another. */
export interface NetworkSlots {
  /** A slot network no running job holds: an idle one still whole, or a new one. */
  acquire(): Promise<SlotNetwork>;
  /** Gives `slot` back once its job ended; `reusable: false` (something of the job may be left in it) ends it. */
  release(slot: SlotNetwork, reusable: boolean): void;
  /** Ends the idle ones. */
  close(): void;
}

/**
 * Slot networks for the `default` network mode, made when a job needs one and none is idle (so one
 * per job running at once: PUSHCI_CONCURRENCY per worker at most). An idle one whose holder or
 * slirp4netns ended, or whose walls no longer match this machine's addresses, is ended and replaced,
 * never handed out.
 */
export function networkSlots(via: { spawn: SpawnFn; env: Record<string, string> }): NetworkSlots {
  const idle: SlotNetwork[] = [];
  return {
    async acquire() {
      for (let s = idle.pop(); s; s = idle.pop()) {
        if (s.current()) return s;
        s.stop();
      }
      return startSlotNetwork(blockedDestinations(), via);
    },
    release(slot, reusable) {
      if (reusable && slot.alive()) idle.push(slot);
      else slot.stop();
    },
    close() {
      for (const s of idle.splice(0)) s.stop();
    },
  };
}
