import type { Transport } from "./connection.ts";

/**
 * Liveness of one connection: when the client was last heard from, and whether it owes a pong.
 * Connections with the same idle timeout share one timer, so an idle socket costs no timer of its own.
 */
export class Liveness {
  lastHeard = Date.now();
  pinged = false;

  constructor(
    readonly transport: Transport & { ping(): void },
    /** Told once the client has been silent for the whole idle timeout (the connection's loop). */
    readonly owner: { idle(): void },
  ) {}

  /** Any frame from the client, a pong included. */
  heard(): void {
    this.lastHeard = Date.now();
    this.pinged = false;
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

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const now = Date.now();
    const half = this.timeoutMs / 2;
    for (const liveness of this.watched) {
      const silent = now - liveness.lastHeard;
      if (silent >= this.timeoutMs) liveness.owner.idle();
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

/** Pings `liveness` after half of `idleTimeout` seconds of silence; returns the function that stops watching. */
export function watchIdle(liveness: Liveness, idleTimeout: number): () => void {
  const timeoutMs = idleTimeout * 1000;
  let sweep = sweeps.get(timeoutMs);
  if (!sweep) {
    sweep = new Sweep(timeoutMs);
    sweeps.set(timeoutMs, sweep);
  }
  const owner = sweep;
  owner.watched.add(liveness);
  return () => {
    owner.watched.delete(liveness);
    if (owner.watched.size === 0 && sweeps.get(timeoutMs) === owner) {
      owner.stop();
      sweeps.delete(timeoutMs);
    }
  };
}

/** Lets the process exit while only this timer is left (Node, Bun; Deno's numeric ids have no unref). */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
