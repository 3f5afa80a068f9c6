/**
 * The outcome of an operation that can fail: a value, or an error value. Never thrown.
 *
 * @example
 * ```ts
 * const result = sendText(connection, text);
 * if (!result.ok) console.warn("not sent:", result.error.type);
 * ```
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/**
 * Why a frame could not be sent.
 *
 * @example
 * ```ts
 * const result = sendText(connection, text);
 * if (!result.ok && result.error.type === "too_large") console.warn(`${result.error.size} > ${result.error.limit}`);
 * ```
 */
export type SendError =
  | { readonly type: "closed" }
  | { readonly type: "backpressure"; readonly bufferedAmount: number }
  | { readonly type: "too_large"; readonly size: number; readonly limit: number };
