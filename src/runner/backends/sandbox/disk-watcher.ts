import { diskUsage } from '../../disk-usage.ts';
import { formatBytes } from '../../../format-bytes.ts';

/** A job may hold one file, folder or link per this many bytes of PUSHCI_JOB_DISK. */
export const BYTES_PER_FILE = 4096;
/** Files are counted on every this many-th measurement (it is a second walk of the job's folder). */
const FILES_EVERY = 5;

export interface DiskWatcher {
  /** Why the job went over its disk limit, once it has; null until then. */
  over(): string | null;
  /** After a step failed: its limit message when the folder is (nearly) full, as its tool's error hides why. */
  fullAfterFailure(): Promise<string | null>;
  stop(): void;
}

/**
 * Measures the job's folder (workspace, /tmp, $HOME, /dev/shm) every `everyMs` while `busy()`, and calls
 * `onOver` once it holds more than `limitBytes`, or more files than one per BYTES_PER_FILE of it: empty
 * files take no blocks, yet millions of them use up the inodes of the host's file system.
 */
export function watchDisk(o: {
  root: string;
  limitBytes: number;
  everyMs: number;
  busy: () => boolean;
  onOver: () => void;
}): DiskWatcher {
  const limit = formatBytes(o.limitBytes);
  const maxFiles = Math.floor(o.limitBytes / BYTES_PER_FILE);
  const bytesMessage = (used: number) =>
    `filled the job's disk limit of ${limit} (PUSHCI_JOB_DISK): its workspace, /tmp, $HOME and /dev/shm hold ${formatBytes(used)}`;
  const filesMessage = (n: number) =>
    `filled the job's disk limit of ${limit} (PUSHCI_JOB_DISK): its workspace, /tmp, $HOME and /dev/shm hold ${n} files and folders, more than one per ${BYTES_PER_FILE / 1024} KiB of the limit (${maxFiles})`;
  let over: string | null = null;
  let measuring = false;
  let measured = 0;
  const timer = setInterval(() => {
    if (measuring || over || !o.busy()) return;
    measuring = true;
    const files = ++measured % FILES_EVERY === 0 ? diskUsage(o.root, 'inodes') : null;
    void Promise.all([diskUsage(o.root), files]).then(([used, n]) => {
      measuring = false;
      if (used !== null && used > o.limitBytes) over = bytesMessage(used);
      else if (n !== null && n > maxFiles) over = filesMessage(n);
      if (over) o.onOver();
    });
  }, o.everyMs);
  timer.unref();
  return {
    over: () => over,
    async fullAfterFailure() {
      const used = await diskUsage(o.root);
      return used !== null && used >= o.limitBytes * 0.98 ? bytesMessage(used) : null;
    },
    stop: () => clearInterval(timer),
  };
}
