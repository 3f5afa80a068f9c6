import type { FetchHandler } from "./types.ts";

export function defaultOnError(error: unknown): void {
  console.error("[wsloop] fetch handler failed:", error);
}

/** Runs the app's handler; a throw becomes a 500 so one bad request cannot take the server down. */
export async function runFetch(fetch: FetchHandler, request: Request, onError: (error: unknown) => void): Promise<Response> {
  try {
    return responseOf(await fetch(request), onError);
  } catch (error) {
    onError(error);
    return internalError();
  }
}

/**
 * What the app answered, or a 500 (reported) where it answered no Response at all: a handler in
 * JavaScript that forgot to return, whose undefined would otherwise throw wherever it is read.
 */
export function responseOf(answer: unknown, onError: (error: unknown) => void): Response {
  if (typeof answer === "object" && answer !== null) return answer as Response;
  return notAResponse(answer, onError);
}

/** A 500 for what the app answered instead of a Response, reported. */
export function notAResponse(answer: unknown, onError: (error: unknown) => void): Response {
  const what = typeof answer === "object" && answer !== null ? Object.prototype.toString.call(answer) : String(answer);
  onError(new TypeError(`wsloop: the fetch handler answered ${what}, not a Response`));
  return internalError();
}

/**
 * Whether an upgrade lacks `Connection: Upgrade` (RFC 6455 §4.2.1): Node routes such a request
 * as plain HTTP, Deno.upgradeWebSocket throws on it and Bun would upgrade it, so Bun's and Deno's
 * adapters answer it as Node does. Not a core check: Cloudflare's edge sets every incoming
 * request's Connection to Keep-Alive.
 */
export function lacksConnectionUpgrade(request: Request): boolean {
  return !/(?:^|,)\s*upgrade\s*(?:,|$)/i.test(request.headers.get("connection") ?? "");
}

/** What a client gets when the app failed it (threw, rejected, answered no Response). */
export function internalError(): Response {
  return new Response("Internal Server Error", { status: 500 });
}

/** `http://localhost:3000/` for a wildcard host, the host itself otherwise. */
export function serverUrl(hostname: string | undefined, port: number): URL {
  const host = !hostname || hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
  return new URL(`http://${host.includes(":") ? `[${host}]` : host}:${port}/`);
}

/** What a client gets for an upgrade that cannot happen on this request (the marker never reaches it). */
export function notUpgraded(): Response {
  return new Response("426 Upgrade Required: this request cannot be upgraded to a WebSocket.\n", {
    status: 426,
    headers: { upgrade: "websocket", connection: "upgrade", "content-type": "text/plain; charset=utf-8" },
  });
}
