import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { kHeader } from "../core/upgrade.ts";
import { requestUrl } from "./request-url.ts";

/**
 * The Request an app sees for a Node upgrade: what Bun and Deno would hand it (the method as sent,
 * the scheme of the connection itself, never a client's X-Forwarded-Proto), built lazily: it lives
 * as long as the socket, and a full Request would cost ~2 KB per connection. Upgrade requests
 * have no body here: Node hands the rest of the stream to the WebSocket.
 */
export function toUpgradeRequest(req: IncomingMessage): Request {
  const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
  // Throws (400) for a target a URL cannot be made of, as Bun and Deno refuse it.
  const url = requestUrl(scheme, req.headers.host ?? "localhost", req.url ?? "/");
  return new UpgradeRequest(url, req.method ?? "GET", req.rawHeaders) as unknown as Request;
}

/** The same, or undefined when the request's target makes no URL (the client gets 400). */
export function tryUpgradeRequest(req: IncomingMessage): Request | undefined {
  try {
    return toUpgradeRequest(req);
  } catch {
    return undefined;
  }
}

export class UpgradeRequest {
  readonly url: string;
  readonly method: string;
  /** Node's raw headers (name, value, name, ...), or once handed off the same joined by "\n". */
  #raw: string[] | string;
  #headers: Headers | undefined;
  #signal: AbortSignal | undefined;

  constructor(url: string, method: string, raw: string[] | string) {
    this.url = url;
    this.method = method;
    this.#raw = raw;
  }

  /**
   * The upgrade was accepted: the Headers made for the app's checks are dropped (~0.9 KB that
   * would live as long as the socket), and the raw headers are joined into one string (an array
   * and a string per name and per value cost ~400 B more); a later `headers` makes them again.
   */
  static handedOff(request: Request): void {
    if (!(request instanceof UpgradeRequest)) return;
    request.#headers = undefined;
    if (typeof request.#raw !== "string") request.#raw = joinRaw(request.#raw);
  }

  /** headers.get(name) for a lower-case name, read off the raw headers unless a Headers exists already. */
  [kHeader](name: string): string | null {
    if (this.#headers) return this.#headers.get(name);
    const raw = this.#raw;
    if (typeof raw === "string") return joinedHeader(raw, name);
    let value: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i] as string;
      if (key.length !== name.length || key.toLowerCase() !== name) continue;
      const found = trimHttpWhitespace(raw[i + 1] as string);
      value = value === null ? found : `${value}, ${found}`;
    }
    return value;
  }

  get headers(): Headers {
    if (!this.#headers) {
      const headers = new Headers();
      const raw = typeof this.#raw === "string" ? this.#raw.split(SEPARATOR) : this.#raw;
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
      this.#headers = headers;
    }
    return this.#headers;
  }

  get signal(): AbortSignal {
    if (!this.#signal) this.#signal = new AbortController().signal;
    return this.#signal;
  }

  get body(): null {
    return null;
  }
  get bodyUsed(): boolean {
    return false;
  }
  get cache(): RequestCache {
    return "default";
  }
  get credentials(): RequestCredentials {
    return "same-origin";
  }
  get destination(): RequestDestination {
    return "";
  }
  get integrity(): string {
    return "";
  }
  get keepalive(): boolean {
    return false;
  }
  get mode(): RequestMode {
    return "cors";
  }
  get redirect(): RequestRedirect {
    return "follow";
  }
  get referrer(): string {
    return "about:client";
  }
  get referrerPolicy(): ReferrerPolicy {
    return "";
  }
  clone(): Request {
    return new UpgradeRequest(this.url, this.method, this.#raw) as unknown as Request;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(new ArrayBuffer(0));
  }
  blob(): Promise<Blob> {
    return Promise.resolve(new Blob());
  }
  bytes(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array());
  }
  formData(): Promise<FormData> {
    return Promise.resolve(new FormData());
  }
  json(): Promise<unknown> {
    return Promise.reject(new SyntaxError("Unexpected end of JSON input"));
  }
  text(): Promise<string> {
    return Promise.resolve("");
  }
}

/** Between the joined raw headers' names and values: Node's parser lets no line feed into either. */
const SEPARATOR = "\n";

/** The raw headers as one string, unless one holds a line feed after all (or there are none). */
function joinRaw(raw: string[]): string[] | string {
  if (raw.length === 0) return raw;
  for (const part of raw) if (part.includes(SEPARATOR)) return raw;
  return raw.join(SEPARATOR);
}

/** headers.get(name) for a lower-case name, read off the joined raw headers without splitting them. */
function joinedHeader(joined: string, name: string): string | null {
  let value: string | null = null;
  for (let start = 0; start < joined.length; ) {
    const nameEnd = joined.indexOf(SEPARATOR, start);
    if (nameEnd === -1) break;
    let valueEnd = joined.indexOf(SEPARATOR, nameEnd + 1);
    if (valueEnd === -1) valueEnd = joined.length;
    if (nameEnd - start === name.length && sameLowerCase(joined, start, name)) {
      const found = trimHttpWhitespace(joined.slice(nameEnd + 1, valueEnd));
      value = value === null ? found : `${value}, ${found}`;
    }
    start = valueEnd + 1;
  }
  return value;
}

/** Whether `text` at `start` spells the lower-case, ASCII `name` in any case (header names are ASCII tokens). */
function sameLowerCase(text: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let code = text.charCodeAt(start + i);
    if (code >= 0x41 && code <= 0x5a) code += 0x20;
    if (code !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** What Headers strips from a value's ends: HTTP whitespace (tab, LF, CR, space), nothing else. */
function trimHttpWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isHttpWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

// `request instanceof Request` holds, as for crossws' own lazy request.
Object.setPrototypeOf(UpgradeRequest.prototype, Request.prototype);
