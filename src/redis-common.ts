// What the Redis brokers and presence share: connecting within a time limit, option checks, URLs
// in error messages, what an error comes to where the app passed no onError.

/** What the Redis brokers and presence do with an error where the app passed no onError (see guardOnError). */
export function logRedisError(error: unknown): void {
  console.error("[wsloop/redis]", error);
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
