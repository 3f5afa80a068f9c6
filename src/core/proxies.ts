// Which peers may say who the client is (X-Forwarded-For), and the client address that follows.
// No runtime API here (the core imports none): addresses are parsed by hand, IPv4 and IPv6 alike,
// into 16 bytes (IPv4 as ::ffff:a.b.c.d, the form dual-stack servers report it in).

/**
 * The proxies an endpoint trusts to tell the client's address in `X-Forwarded-For`: a list of
 * addresses and CIDR ranges (`"10.0.0.0/8"`, `"::1"`, and the names `"loopback"` and `"private"`),
 * or a number of hops (`1`: the peer is a proxy, whatever its address, and the entry it appended
 * is the client).
 *
 * @example
 * ```ts
 * const behindNginx: TrustedProxies = ["loopback"];
 * const inVpc: TrustedProxies = ["10.0.0.0/8", "fd00::/8"];
 * const oneLoadBalancer: TrustedProxies = 1;
 * ```
 */
export type TrustedProxies = readonly string[] | number;

/** TrustedProxies, parsed once per list. */
export type ProxyTrust = { readonly hops: number } | { readonly ranges: readonly Range[] };

interface Range {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

const NAMED: Record<string, readonly string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

const parsed = new WeakMap<readonly string[], ProxyTrust>();

/** Parses trustedProxies (cached per array); a malformed entry is a RangeError. */
export function proxyTrustOf(trusted: TrustedProxies | undefined): ProxyTrust | undefined {
  if (trusted === undefined) return undefined;
  if (typeof trusted === "number") {
    if (!Number.isInteger(trusted) || trusted < 0)
      throw new RangeError("upgradeWebSocket: trustedProxies as a number is a count of hops (an integer, 0 or more)");
    return hopTrust(trusted);
  }
  let trust = parsed.get(trusted);
  if (!trust) {
    trust = { ranges: trusted.flatMap((entry) => (NAMED[entry] ?? [entry]).map((cidr) => rangeOf(cidr, entry))) };
    parsed.set(trusted, trust);
  }
  return trust;
}

// One object per hop count, so connections of endpoints with the same count share their limits.
const hopTrusts = new Map<number, ProxyTrust>();
function hopTrust(hops: number): ProxyTrust {
  let trust = hopTrusts.get(hops);
  if (!trust) {
    trust = { hops };
    hopTrusts.set(hops, trust);
  }
  return trust;
}

function rangeOf(cidr: string, entry: string): Range {
  const slash = cidr.indexOf("/");
  const bytes = parseIp(slash < 0 ? cidr : cidr.slice(0, slash));
  const v4 = bytes !== undefined && isMappedV4(bytes) && !cidr.includes(":");
  const prefix = slash < 0 ? (v4 ? 32 : 128) : Number(cidr.slice(slash + 1));
  const max = v4 ? 32 : 128;
  if (!bytes || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash >= 0 && !/^\d+$/.test(cidr.slice(slash + 1))))
    throw new RangeError(
      `upgradeWebSocket: trustedProxies entry ${JSON.stringify(entry)} is not an IP address, a CIDR range like "10.0.0.0/8", "loopback" or "private"`,
    );
  return { bytes, bits: v4 ? prefix + 96 : prefix };
}

/**
 * The client's address for a connection from `peer` carrying `forwarded` (X-Forwarded-For): walking
 * from the peer towards the client, each trusted hop vouches for the entry before it; the first
 * hop that is not trusted is the client. An entry that is not an IP address ends the walk at the
 * hop that sent it. Without trust, the peer.
 */
export function clientAddressOf(peer: string, forwarded: string | null, trust: ProxyTrust | undefined): string {
  if (!trust || forwarded === null) return peer;
  const entries = forwarded.split(",");
  let current = peer;
  for (let hop = 0; ; hop++) {
    if (!isTrusted(current, hop, trust)) return current;
    const next = bareIp(entries.pop() ?? "");
    if (next === undefined) return current;
    current = next;
  }
}

/** An X-Forwarded-For entry's IP address, without the port some proxies add ("[::1]:80", "1.2.3.4:80"). */
function bareIp(entry: string): string | undefined {
  let address = entry.trim();
  if (address.startsWith("[")) address = address.slice(1, address.indexOf("]") >>> 0);
  else if (address.indexOf(":") === address.lastIndexOf(":") && address.includes(".")) address = address.split(":")[0] as string;
  return parseIp(address) ? address : undefined;
}

function isTrusted(address: string, hop: number, trust: ProxyTrust): boolean {
  if ("hops" in trust) return hop < trust.hops;
  const bytes = parseIp(address);
  return bytes !== undefined && trust.ranges.some((range) => contains(range, bytes));
}

function contains(range: Range, bytes: Uint8Array): boolean {
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((range.bytes[i] as number) & mask) !== ((bytes[i] as number) & mask)) return false;
  }
  return true;
}

/** True for an IPv4 address in parseIp's 16 bytes (::ffff:a.b.c.d). */
export function isMappedV4(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** 16 bytes for an IPv4 or IPv6 address (an IPv6 zone such as %eth0 is ignored), or undefined. */
export function parseIp(text: string): Uint8Array | undefined {
  const zone = text.indexOf("%");
  const address = zone < 0 ? text : text.slice(0, zone);
  if (!address.includes(":")) {
    const v4 = parseV4(address);
    if (!v4) return undefined;
    const bytes = new Uint8Array(16);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes.set(v4, 12);
    return bytes;
  }
  return parseV6(address);
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    bytes.push(Number(part));
  }
  return bytes;
}

function parseV6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (!half) return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseV4(part);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(Number.parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}
