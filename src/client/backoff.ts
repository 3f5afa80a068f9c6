// When to reconnect: the close code decides how (reconnectDecision), the retry count how long
// (reconnectDelay). Full jitter (a uniform draw from 0 to the window) spreads a crowd of clients
// that lost the same server over the whole window, so a restarted server is not hit at once.
import type { ReconnectDecision } from "./types.ts";

/**
 * The default answer to a close the app did not ask for, by close code: 1001 (going away), 1005,
 * 1006, 1009 (the oversize frame is not sent again), 1012 → "reconnect"; 1008 (policy) →
 * "backoff-hard"; 3000-4999 (the app's own) and 1000 (the server ended it) → "stop"; anything
 * else (1011, 1002, 1003, 1007, 1013, …) → "backoff".
 *
 * @example
 * ```ts
 * connect(url, {
 *   dependencies: null, onInit: () => null, onMessage: (state) => state,
 *   reconnect: (close) => (close.code === 4001 ? "stop" : close.code >= 4000 ? "backoff" : reconnectDecision(close.code)),
 * });
 * ```
 */
export function reconnectDecision(code: number): ReconnectDecision {
  if (code === 1000 || (code >= 3000 && code <= 4999)) return "stop";
  if (code === 1008) return "backoff-hard";
  if (code === 1001 || code === 1005 || code === 1006 || code === 1009 || code === 1012) return "reconnect";
  return "backoff";
}

/**
 * The delay before retry number `retry` (0 for the first retry after a healthy connection), in ms,
 * for a decision other than "stop". `random` is in [0, 1); the result can still equal the window's
 * top by rounding (500 + 0.9999999999999999 * 500 is 1000 in floating point).
 */
export function reconnectDelay(decision: ReconnectDecision, retry: number, base: number, cap: number, random: number): number {
  if (decision === "backoff-hard") return cap / 2 + (random * cap) / 2;
  // 2^(retry+3) overflows to Infinity long after min() has settled on the cap: no loss there.
  const window = Math.min(cap, base * 2 ** (decision === "backoff" ? retry + 3 : retry));
  return random * window;
}
