import type { Transport } from "../core/connection.ts";

/**
 * A transport OpenSockets can hold: linked in place, so an open socket costs two fields of its
 * transport rather than a Map entry (~240 B of RSS per socket on Bun).
 */
export interface OpenSocket extends Transport {
  openPrev: OpenSocket | undefined;
  openNext: OpenSocket | undefined;
}

/** The transports of one server whose socket is still open: what close() waits for, then drops. */
export class OpenSockets {
  #head: OpenSocket | undefined;
  #onEmpty: (() => void) | undefined;

  add(socket: OpenSocket): void {
    if (this.#holds(socket)) return;
    socket.openPrev = undefined;
    socket.openNext = this.#head;
    if (this.#head) this.#head.openPrev = socket;
    this.#head = socket;
  }

  /** Nothing happens for a socket that is not here (never added, or deleted already). */
  delete(socket: OpenSocket): void {
    if (!this.#holds(socket)) return;
    const { openPrev, openNext } = socket;
    if (openPrev) openPrev.openNext = openNext;
    else this.#head = openNext;
    if (openNext) openNext.openPrev = openPrev;
    socket.openPrev = undefined;
    socket.openNext = undefined;
    if (this.#head === undefined) this.#onEmpty?.();
  }

  /** Only the first socket has no predecessor: a transport is held by at most one server. */
  #holds(socket: OpenSocket): boolean {
    return socket.openPrev !== undefined || this.#head === socket;
  }

  /** Resolves once every socket is closed, or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.#head === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const onEmpty = this.#onEmpty;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#onEmpty = () => {
        onEmpty?.();
        done();
      };
    });
  }

  terminateAll(): void {
    // A terminate may report its close at once, which unlinks it: walk a copy.
    const open: OpenSocket[] = [];
    for (let socket = this.#head; socket; socket = socket.openNext) open.push(socket);
    for (const transport of open) {
      try {
        transport.terminate();
      } catch {
        // Gone already: its close is on the way.
      }
    }
  }
}
