import type { Selector } from "./selector.ts";
import { utf8Length } from "./size.ts";

/**
 * What `onMessage` returns: the next step of the loop. Opaque; build it with
 * {@link continueConnection}, {@link continueConnectionWithSelector} or {@link stopConnection}.
 *
 * @example
 * ```ts
 * function onMessage(state: number, message: Message<never>): Action<number, never> {
 *   return message.type === "closed" ? stopConnection() : continueConnection(state + 1);
 * }
 * ```
 */
export interface Action<out State, out Custom> {
  /** Type-only brand: carries State and Custom for the compiler; no such property exists. */
  readonly "~wsloop.action": { readonly state: State; readonly custom: Custom };
}

export const CONTINUE = 0;
export const STOP = 1;

/** The runtime form of an {@link Action}; one class so every action has the same shape. */
export class ActionImpl {
  constructor(
    readonly kind: typeof CONTINUE | typeof STOP,
    readonly state: unknown,
    readonly selector: Selector<unknown> | undefined,
    readonly code: number,
    readonly reason: string,
  ) {}
}

/**
 * Continue the loop with `state`, keeping the current selector.
 *
 * @example
 * ```ts
 * return continueConnection({ ...state, count: state.count + 1 });
 * ```
 */
export function continueConnection<State>(state: State): Action<State, never> {
  // Actions are immutable: the one for an unchanged state (the common case) is reused.
  if (lastContinue.state !== state) lastContinue = new ActionImpl(CONTINUE, state, undefined, 0, "");
  return lastContinue as unknown as Action<State, never>;
}

let lastContinue = new ActionImpl(CONTINUE, undefined, undefined, 0, "");

/**
 * Continue the loop with `state` and make `selector` the source of custom messages.
 * The previous selector is unsubscribed first; passing the current one again keeps it.
 *
 * @example
 * ```ts
 * // Switch this connection from one room's topic to another's.
 * return continueConnectionWithSelector(state, deps.broker.topic(`room:${next}`));
 * ```
 */
export function continueConnectionWithSelector<State, Custom>(state: State, selector: Selector<Custom>): Action<State, Custom> {
  return new ActionImpl(CONTINUE, state, selector as Selector<unknown>, 0, "") as unknown as Action<State, Custom>;
}

/**
 * Stop the loop: the socket is closed with `code` (default 1000) and `onClose` runs once.
 *
 * @example
 * ```ts
 * if (message.type === "closed") return stopConnection();
 * if (message.type === "text" && message.text === "bye") return stopConnection({ code: 4000, reason: "bye" });
 * ```
 */
export function stopConnection(close?: { code?: number; reason?: string }): Action<never, never> {
  const code = close?.code ?? 1000;
  if (!isSendableCloseCode(code)) throw new RangeError(`stopConnection: ${code} is not a close code a server may send`);
  const reason = close?.reason ?? "";
  // The close frame's payload is 125 bytes, two of them the code (RFC 6455 §5.5).
  if (utf8Length(reason) > 123) throw new RangeError("stopConnection: the reason must fit in 123 UTF-8 bytes");
  return new ActionImpl(STOP, undefined, undefined, code, reason) as unknown as Action<never, never>;
}

/** RFC 6455 §7.4: 1000-1014 less the reserved ones, and the 3000-4999 application range. */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** What a loop reports when `onMessage` returned something else than an Action. */
export function notAnAction(value: unknown): TypeError {
  return new TypeError(
    `wsloop: onMessage must return continueConnection(...), continueConnectionWithSelector(...) or stopConnection(), got ${String(value)}`,
  );
}
