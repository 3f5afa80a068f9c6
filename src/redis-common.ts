// What the Redis brokers and presence share: connecting within a time limit, option checks, URLs
// in error messages, the app's onError.
import { callOnError } from "./core/report.ts";

/**
 * The app's onError, or logging. One that throws or rejects is logged, never raised: called from
 * node-redis' 'error' event (a throw there is an uncaught exception, on Node the end of the
 * process) or from a subscription every publish waits on (a throw there rejected them all).
 */
export function redisOnError(onError: ((error: unknown) => void) | undefined): (error: unknown) => void {
  if (onError === undefined) return (error) => console.error("[wsloop/redis]", error);
  return (error) => callOnError(onError, error);
}

/** A node-redis client, as far as connecting goes. */
export interface Connectable {
  connect(): Promise<unknown>;
  destroy(): void;
  readonly isOpen: boolean;
}

/** Connects `clients`, or rejects with `timeoutError()` after `ms` and closes them (no retries left behind). */
export async function connectWithin(clients: Connectable[], ms: number, timeoutError: () => Error): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    await Promise.race([Promise.all(clients.map((client) => client.connect())), timeout]);
  } catch (error) {
    for (const client of clients) if (client.isOpen) client.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** `value` checked as a positive option of `who` (in `unit`), or `fallback` when absent. */
export function milliseconds(
  name: string,
  value: number | undefined,
  fallback: number,
  who = "createRedisBroker",
  unit = "milliseconds",
): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${who}: ${name} must be a positive number of ${unit}`);
  return value;
}

/** The URL without its password, for error messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href.replace(/\/$/, "");
  } catch {
    return url;
  }
}
