import { readlinkSync } from 'node:fs';

/**
 * Where an open file really is: the kernel's path of the descriptor (Linux). A process of the job can
 * swap a folder on the way for a symlink between a check and an open, and O_NOFOLLOW guards only the
 * last name; comparing this with the path meant (symlink-free) tells whether the open went elsewhere.
 */
export function openedPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}
