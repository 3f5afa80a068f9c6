/** The outcome of an operation that can fail: a value, or an error value. Never thrown. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** Why a frame could not be sent. */
export type SendError =
  | { readonly type: "closed" }
  | { readonly type: "backpressure"; readonly bufferedAmount: number }
  | { readonly type: "too_large"; readonly size: number; readonly limit: number };
