import type { Peer } from "crossws";
import type { Transport } from "../core/connection.ts";

/** The transports of one server whose socket is still open: what close() waits for, then drops. */
export class OpenSockets {
  readonly #open = new Map<Peer, Transport>();
  #onEmpty: (() => void) | undefined;

  add(peer: Peer, transport: Transport): void {
    this.#open.set(peer, transport);
  }

  delete(peer: Peer): void {
    if (this.#open.delete(peer) && this.#open.size === 0) this.#onEmpty?.();
  }

  /** Resolves once every socket is closed, or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
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
    for (const transport of this.#open.values()) {
      try {
        transport.terminate();
      } catch {
        // Gone already: its close is on the way.
      }
    }
  }
}
