import type { Transport } from "./connection.ts";

/** The connection's loop: closes an idle connection, and says while its socket is not being read. */
type Owner = { closeWith(code: number, reason: string): void; readonly mailbox?: { readonly paused: boolean } | undefined };

/**
 * Liveness of one connection: when the client was last heard from, and whether it owes a pong.
 * Connections with the same idle timeout share one timer, so an idle socket costs no timer of its own.
 */
export class Liveness {
  lastHeard = performance.now();
  pinged = false;

  constructor(
    readonly transport: Transport & { ping(): void },
    /** Told to close once the client has been silent for the whole idle timeout (the connection's loop). */
    readonly owner: Owner,
    readonly sweep: Sweep,
  ) {}

  /** Any frame from the client, a pong included. */
  heard(): void {
    this.lastHeard = performance.now();
    this.pinged = false;
  }

  /** Stops watching this connection. */
  stop(): void {
    this.sweep.unwatch(this);
  }
}

class Sweep {
  readonly watched = new Set<Liveness>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly timeoutMs: number) {
    // A quarter of the timeout: the close lands within 1.25x of it, the ping within 0.75x.
    this.#timer = setInterval(() => this.#tick(), Math.max(timeoutMs / 4, 10));
    unref(this.#timer);
  }

  unwatch(liveness: Liveness): void {
    this.watched.delete(liveness);
    if (this.watched.size > 0 || sweeps.get(this.timeoutMs) !== this) return;
    clearInterval(this.#timer);
    sweeps.delete(this.timeoutMs);
  }

  #tick(): void {
    // The monotonic clock: a wall clock set forward (NTP, a VM resumed) would close every
    // connection at once without a ping, and one set back would keep dead ones for as long.
    const now = performance.now();
    const half = this.timeoutMs / 2;
    for (const liveness of this.watched) {
      // Reading is paused (flow control): the client's silence, pongs included, is the server's doing.
      if (liveness.owner.mailbox?.paused) liveness.heard();
      const silent = now - liveness.lastHeard;
      if (silent >= this.timeoutMs) liveness.owner.closeWith(1001, "Idle timeout");
      else if (silent >= half && !liveness.pinged) {
        liveness.pinged = true;
        try {
          liveness.transport.ping();
        } catch {
          // The socket is going away; its close reaches the session on its own.
        }
      }
    }
  }
}

const sweeps = new Map<number, Sweep>();

/**
 * Watches a connection that can ping (`transport.ping`) with `idleTimeout` seconds (0: none): a ping
 * after half of it in silence, `owner.closeWith(1001)` at the full timeout. Undefined when not watched.
 */
export function keepAlive(transport: Transport, idleTimeout: number, owner: Owner): Liveness | undefined {
  if (idleTimeout <= 0 || !transport.ping) return undefined;
  const timeoutMs = idleTimeout * 1000;
  let sweep = sweeps.get(timeoutMs);
  if (!sweep) {
    sweep = new Sweep(timeoutMs);
    sweeps.set(timeoutMs, sweep);
  }
  const liveness = new Liveness(transport as Transport & { ping(): void }, owner, sweep);
  sweep.watched.add(liveness);
  return liveness;
}

/** Lets the process exit while only this timer is left (Node, Bun; Deno's numeric ids have no unref). */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
