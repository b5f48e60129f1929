import crypto from 'node:crypto';
import os from 'node:os';
import { processExists } from '../lib/process.js';

/**
 * Worker identities: `host/pid/random`. A line or lease held by a worker on this host whose
 * process is gone is taken back at once (a restart after kill -9 resumes immediately); one held
 * elsewhere is taken back when its heartbeat is older than the stale limit.
 */

/**
 * Worker ids alive in this process. Process identity, not a cache: it is what tells a worker of
 * this process from an earlier process that had the same pid (a container restarted after kill -9
 * usually gets its old pid back).
 */
const aliveHere = new Set<string>();

/** A new identity for this process's worker, alive until `retireWorkerId`. */
export function newWorkerId(): string {
  const id = `${os.hostname()}/${process.pid}/${crypto.randomBytes(4).toString('hex')}`;
  aliveHere.add(id);
  return id;
}

/** Marks a worker of this process as stopped. */
export function retireWorkerId(id: string): void {
  aliveHere.delete(id);
}

/** True when `workerId` names a process on this host that no longer exists. */
export function isDeadLocalWorker(workerId: string): boolean {
  const parts = workerId.split('/');
  if (parts.length < 3) return false;
  const pid = Number(parts[parts.length - 2]);
  const host = parts.slice(0, -2).join('/');
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return !aliveHere.has(workerId);
  return !processExists(pid);
}
