// Limits on upgrades, checked before the app runs: connection caps, and the upgrade timeout.
import { isMappedV4, parseIp } from "../core/proxies.ts";
import type { Session } from "../core/session.ts";
import type { PendingUpgrade } from "../core/upgrade.ts";

/**
 * `maxConnections` and `maxConnectionsPerIp` of one server: an upgrade over either is refused
 * (503, 429, with Retry-After) before the app runs and before any socket exists. A place is held
 * from the check until the connection's loop finished, or the upgrade was refused or never opened.
 */
export class ConnectionCaps {
  readonly #max: number;
  readonly #maxPerIp: number;
  /** Places held per address: upgrades in the app's fetch, handed off, and open. */
  readonly #perIp = new Map<string, number>();
  /**
   * Accepted upgrades whose socket has not opened, with their address: one whose client vanished
   * first never opens, and the loops release it after a while (see createLoops).
   */
  readonly #handoffs = new Map<PendingUpgrade, string | undefined>();
  readonly #open = new Map<Session, string | undefined>();

  constructor(maxConnections = Infinity, maxConnectionsPerIp = Infinity) {
    this.#max = checked("maxConnections", maxConnections);
    this.#maxPerIp = checked("maxConnectionsPerIp", maxConnectionsPerIp);
  }

  /** The refusal for an upgrade from `address` while `busy` places are taken elsewhere, or undefined: a place is held. */
  admit(address: string | undefined, busy: number): Response | undefined {
    if (busy + this.#handoffs.size >= this.#max) return refusal(503, "the server is at its connection limit");
    if (address !== undefined && this.#maxPerIp !== Infinity) {
      const held = this.#perIp.get(address) ?? 0;
      if (held >= this.#maxPerIp) return refusal(429, "too many connections from this address");
      this.#perIp.set(address, held + 1);
    }
    return undefined;
  }

  /** The upgrade admitted for `address` was refused after all (by the app, a timeout, shutdown). */
  cancel(address: string | undefined): void {
    if (address === undefined || this.#maxPerIp === Infinity) return;
    const held = (this.#perIp.get(address) ?? 1) - 1;
    if (held > 0) this.#perIp.set(address, held);
    else this.#perIp.delete(address);
  }

  handedOff(pending: PendingUpgrade, address: string | undefined): void {
    this.#handoffs.set(pending, address);
  }

  opened(pending: PendingUpgrade, session: Session): void {
    // Released meanwhile (it took too long): its place was given back, and it is not counted per address.
    if (!this.#handoffs.has(pending)) return;
    const address = this.#handoffs.get(pending);
    this.#handoffs.delete(pending);
    if (this.#maxPerIp !== Infinity) this.#open.set(session, address);
  }

  /** An accepted upgrade that will not open (the runtime said so, or it took too long). */
  released(pending: PendingUpgrade): void {
    if (!this.#handoffs.has(pending)) return;
    const address = this.#handoffs.get(pending);
    this.#handoffs.delete(pending);
    this.cancel(address);
  }

  finished(session: Session): void {
    if (!this.#open.has(session)) return;
    const address = this.#open.get(session);
    this.#open.delete(session);
    this.cancel(address);
  }
}

/** Bytes of an IPv6 address that name one client for maxConnectionsPerIp: its /56. */
const V6_CLIENT_BYTES = 7;

/**
 * The key maxConnectionsPerIp counts a peer address under: an IPv4 address (also IPv4-mapped
 * IPv6, as Node reports IPv4 clients of a dual-stack server) as it is; an IPv6 address by its /56,
 * since one subscriber is given a /64 to a /48 and could otherwise open its share from each of
 * 2^64 addresses (the prefix express-rate-limit uses too). Anything else, as it is.
 */
export function clientKey(address: string): string {
  const bytes = parseIp(address);
  if (!bytes) return address;
  if (isMappedV4(bytes)) return bytes.subarray(12).join(".");
  let key = "";
  for (let i = 0; i < V6_CLIENT_BYTES; i++) key += (bytes[i] as number).toString(16).padStart(2, "0");
  return `${key}/56`;
}

function checked(name: string, value: number): number {
  if (!(value >= 1)) throw new RangeError(`serve: ${name} must be at least 1`);
  return value;
}

/**
 * 503 or 429 with a Retry-After of 1 to 5 seconds, so that the clients refused together do not all
 * come back in the same second.
 */
export function refusal(status: 503 | 429, why: string): Response {
  const statusText = status === 503 ? "Service Unavailable" : "Too Many Requests";
  return new Response(`${status} ${statusText}: ${why}.\n`, {
    status,
    statusText,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": String(1 + Math.floor(Math.random() * 5)) },
  });
}

/** How long the app's fetch may take to answer an upgrade by default, in seconds. */
export const DEFAULT_UPGRADE_TIMEOUT = 10;

/** `upgradeTimeout` checked, in seconds: at most a timer's longest delay (2^31 - 1 ms). */
export function upgradeTimeoutOf(seconds = DEFAULT_UPGRADE_TIMEOUT): number {
  if (!(seconds > 0 && seconds <= 2_147_483))
    throw new RangeError("serve: upgradeTimeout must be a number of seconds from 0 to 2147483");
  return seconds;
}

/** What a client gets when the app's fetch did not answer its upgrade within upgradeTimeout. */
export function timedOut(): Response {
  return refusal(503, "the upgrade was not answered in time");
}
