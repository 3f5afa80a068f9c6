// close({ drain }): a shutdown that does not send every client to the next instance at once.
import type { SessionSet } from "./live-sessions.ts";

/** How often `close({ drain })` closes a batch of sockets. */
const DRAIN_BATCH_MS = 100;

/** `drain` checked: seconds from 0 (all at once) to an hour. */
export function drainSeconds(seconds: number): number {
  if (!(seconds >= 0 && seconds <= 3600)) throw new RangeError("close: drain must be a number of seconds from 0 to 3600");
  return seconds;
}

/**
 * Closes every session with 1001: all at once, or spread over `windowMs` in batches at least
 * DRAIN_BATCH_MS apart (fewer sockets than batches: one each, evenly spaced over the window), so
 * that clients reconnecting at once do not all land on the next instance in the same second.
 * Sessions that ended meanwhile are skipped, and once none is left it stops waiting; one that
 * opens meanwhile is closed when it opens (see `opened` in loops.ts).
 */
export async function closeInBatches(sessions: SessionSet, windowMs: number): Promise<void> {
  const all = [...sessions];
  const batches = Math.max(1, Math.min(all.length, Math.floor(windowMs / DRAIN_BATCH_MS)));
  const gap = windowMs / batches;
  const size = Math.ceil(all.length / batches);
  for (let start = 0; start < all.length; start += size) {
    if (start > 0) {
      // Every loop has finished (its clients left): nothing is left to spread.
      if (sessions.size === 0) return;
      await new Promise((resolve) => setTimeout(resolve, gap));
    }
    for (const session of all.slice(start, start + size))
      if (sessions.has(session)) session.closeWith(1001, "Server shutting down");
  }
}
