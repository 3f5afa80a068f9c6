/** A fetch-style handler: the same function runs on Node, Bun and Deno. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** What every adapter's `serve` takes. */
export interface ServeOptions {
  fetch: FetchHandler;
  /** Port to listen on (default 3000); 0 picks a free one. */
  port?: number;
  /** Interface to listen on (default: all). */
  hostname?: string;
  /** Gets errors thrown by `fetch` (answered with 500). Default: console.error. */
  onError?: (error: unknown) => void;
}

/** A running server. */
export interface Server {
  readonly url: URL;
  readonly port: number;
  /** Stops accepting, closes every socket with 1001, waits for each `onClose`, then stops the server. */
  close(): Promise<void>;
}
