import { ActionImpl, CONTINUE } from "../core/action.ts";
import type { Connection } from "../core/connection.ts";
import type { Notice } from "../core/message.ts";
import type { Selector } from "../core/selector.ts";
import { isThenable } from "../core/thenable.ts";
import { type AnyOptions, PendingUpgrade, type UpgradeOptions } from "../core/upgrade.ts";
import type { CloudflareSocket } from "./cloudflare-types.ts";

/**
 * How a loop survives a Durable Object's hibernation: its state is kept in the socket's
 * attachment, written after `onInit` and after every `onMessage` that continues the loop.
 *
 * @example
 * ```ts
 * const counter: Hibernation<{ count: number }, string, Deps> = {
 *   serialize: (state) => state.count,
 *   deserialize: (data) => ({ count: Number(data) }),
 *   selector: (_state, _connection, deps) => deps.news.selector,
 * };
 * ```
 */
export interface Hibernation<State, Custom, Deps> {
  /**
   * The state as a structured-cloneable value (a string, a number, plain objects and arrays…).
   * With the rest of the attachment it must fit the runtime's attachment limit (16 KiB in workerd
   * 2026-04; Cloudflare's documentation has said 2 KiB): a state that does not is a handler error,
   * so the socket is closed with 1011 and `onClose` runs with the last state that fit.
   */
  serialize(state: State): unknown;
  /** The state back from what `serialize` returned, when the object wakes. */
  deserialize(data: unknown): State;
  /**
   * The selector of a woken loop (default: none). Subscriptions live in memory and are gone after
   * hibernation: keep in the state whatever decides the selector, and rebuild it here.
   */
  selector?(state: State, connection: Connection, deps: Deps): Selector<Custom> | undefined;
  /**
   * Upgrade request headers to keep for after a wake (default: none). A woken loop's
   * `connection.request` is rebuilt from the URL, these headers and the subprotocol; the app's
   * fetch handler runs again on it to find the endpoint's handlers and dependencies (not `onInit`).
   */
  headers?: readonly string[];
}

const kHibernation = Symbol.for("wsloop.cloudflare.hibernation");

/**
 * Opts an endpoint into hibernation: in a Durable Object served by `createDurableHandler`, its
 * sockets are accepted through the hibernation API and its loops resume after a wake with their
 * last state. Elsewhere (Node, Bun, Deno, a plain Worker) the options work as they are.
 *
 * @example
 * ```ts
 * return upgradeWebSocket(request, hibernate({ dependencies, onInit, onMessage, onClose }, {
 *   serialize: (state) => state,
 *   deserialize: (data) => data as number,
 * }));
 * ```
 */
export function hibernate<State, Custom, Deps, Notices extends Notice = never>(
  options: UpgradeOptions<State, Custom, Deps, Notices>,
  hibernation: Hibernation<State, Custom, Deps>,
): UpgradeOptions<State, Custom, Deps, Notices> {
  return Object.assign({ ...options }, { [kHibernation]: hibernation });
}

type AnyHibernation = Hibernation<unknown, unknown, unknown>;

/** The endpoint's hibernation codec, if it opted in. */
export function hibernationOf(pending: PendingUpgrade): AnyHibernation | undefined {
  return (pending.options as { [kHibernation]?: AnyHibernation })[kHibernation];
}

/** What a hibernating socket's attachment holds: enough to find its endpoint and state again. */
export interface Saved {
  /** Format version. */
  readonly wsloop: 1;
  readonly url: string;
  readonly headers: [string, string][];
  readonly protocol: string;
  /** What `serialize` returned; absent until `onInit` returned. */
  readonly state?: unknown;
}

export function isSaved(value: unknown): value is Saved {
  return typeof value === "object" && value !== null && (value as Saved).wsloop === 1;
}

const ENDED = Object.freeze({ wsloop: 1, ended: true });

/** Marks a socket whose loop has ended (`onClose` ran): a wake for its close must not run the loop again. */
export function markEnded(socket: CloudflareSocket): void {
  try {
    socket.serializeAttachment(ENDED);
  } catch {
    // The socket is gone: no event will come for it.
  }
}

export function isEnded(value: unknown): boolean {
  return isSaved(value) && (value as { ended?: boolean }).ended === true;
}

/** What the attachment keeps of an upgrade: its URL, the headers asked for, the subprotocol. */
export function savedUpgrade(pending: PendingUpgrade, hibernation: AnyHibernation): Saved {
  const headers: [string, string][] = [];
  for (const name of hibernation.headers ?? []) {
    const value = pending.request.headers.get(name);
    if (value !== null) headers.push([name, value]);
  }
  return { wsloop: 1, url: pending.request.url, headers, protocol: pending.protocol };
}

/**
 * The upgrade request a woken loop stands for: the saved URL and headers, with what makes it a
 * valid WebSocket handshake again, so the app's `upgradeWebSocket` accepts it as it did.
 */
export function rebuiltRequest(saved: Saved): Request {
  const headers = new Headers(saved.headers);
  headers.set("host", new URL(saved.url).host);
  headers.set("upgrade", "websocket");
  headers.set("connection", "Upgrade");
  headers.set("sec-websocket-version", "13");
  // Any valid key: no handshake is answered with it.
  headers.set("sec-websocket-key", "d3Nsb29wLWhpYmVybmF0ZQ==");
  if (saved.protocol) headers.set("sec-websocket-protocol", saved.protocol);
  return new Request(saved.url, { headers });
}

/**
 * The upgrade with handlers that save the state to the socket's attachment whenever the loop goes
 * on: after `onInit`, and after each `onMessage` that continues. A save that fails (a state the
 * codec refuses, or too large for the attachment) fails that handler.
 */
export function persisting(pending: PendingUpgrade, hibernation: AnyHibernation, socket: CloudflareSocket): PendingUpgrade {
  const base = savedUpgrade(pending, hibernation);
  const save = (state: unknown) => {
    const saved: Saved = { ...base, state: hibernation.serialize(state) };
    try {
      socket.serializeAttachment(saved);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(
        `wsloop/cloudflare: the loop's state does not fit the socket's attachment, where hibernation keeps it: ${why}`,
        {
          cause: error,
        },
      );
    }
  };
  const options = pending.options;
  const wrapped: AnyOptions = {
    ...options,
    onInit: (connection, deps) =>
      after(options.onInit(connection, deps), (result) => {
        if (Array.isArray(result)) save(result[0]);
        return result;
      }),
    onMessage: (state, message, connection, deps) =>
      after(options.onMessage(state, message, connection, deps), (action) => {
        // The answer to the closed notice is ignored: nothing to keep.
        if (message.type !== "closed" && action instanceof ActionImpl && action.kind === CONTINUE) save(action.state);
        return action;
      }),
  };
  return new PendingUpgrade(pending.request, pending.protocol, wrapped, pending.limits, pending.headers);
}

/** `then(value)`, at once for a plain value, once settled for a promise. */
function after<T>(value: T | PromiseLike<T>, then: (value: T) => T): T | Promise<T> {
  return isThenable(value) ? Promise.resolve(value).then(then) : then(value);
}
