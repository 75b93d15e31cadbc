/**
 * Whether a process with this id exists (signal 0 checks without sending anything). EPERM means it
 * exists but belongs to someone else: still alive, so nothing of it is cleared.
 */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
