import type { Hooks, Message, Peer } from "crossws";

/** The session hooks a DenoPeer feeds (sessionHooks': none of them returns a promise). */
type PeerHooks = Required<Pick<Hooks, "open" | "message" | "close">>;

/**
 * A socket from Deno.upgradeWebSocket as the crossws peer wsloop's session hooks read (its context,
 * `_internal.ws`, send, close, bufferedAmount, remoteAddress), without crossws' Deno upgrade: that
 * one copies the request's headers behind a Proxy, runs an async hook pipeline and adds four
 * listeners (closures) per socket, and crossws' close event has no code, which wsloop then needed a
 * listener of its own for. Here the peer itself is the socket's one listener (`handleEvent`).
 */
export class DenoPeer {
  readonly ws: WebSocket;
  readonly remoteAddress: string | undefined;
  readonly context: Record<string, unknown>;
  readonly #hooks: PeerHooks;

  constructor(ws: WebSocket, remoteAddress: string | undefined, context: Record<string, unknown>, hooks: PeerHooks) {
    this.ws = ws;
    this.remoteAddress = remoteAddress;
    this.context = context;
    this.#hooks = hooks;
    ws.addEventListener("open", this);
    ws.addEventListener("message", this);
    ws.addEventListener("close", this);
  }

  /** Where crossws' peers keep their socket (see socketOf): the peer itself. */
  get _internal(): { readonly ws: WebSocket } {
    return this;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: string | Uint8Array<ArrayBuffer>): void {
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  /** Deno's WebSocket has none: the adapter's `terminate` option drops the connection instead. */
  terminate(): void {
    this.ws.close();
  }

  handleEvent(event: Event): void {
    const peer = this as unknown as Peer;
    switch (event.type) {
      case "message":
        this.#hooks.message(peer, { rawData: (event as MessageEvent).data } as Message);
        break;
      case "open":
        this.#hooks.open(peer);
        break;
      case "close": {
        // Deno says 0 for a connection lost without a close frame, which RFC 6455 calls 1006.
        const { code, reason } = event as CloseEvent;
        this.#hooks.close(peer, { code: code || 1006, reason });
        break;
      }
    }
  }
}
