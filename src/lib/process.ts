/**
 * Whether a process with this id exists on this machine (zombies included). A process we may not
 * signal (EPERM) exists too.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
