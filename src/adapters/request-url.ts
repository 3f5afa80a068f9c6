// The URL of a Node request, without the URL parser for the targets it would leave as they are.

/**
 * An origin-form target URL parsing keeps byte for byte: a path and query of unreserved and
 * sub-delimiter characters, no "//" start (a scheme-relative URL), no "/." (a dot segment) and no
 * "%" (an encoded dot, and escapes URL keeps or not case by case).
 */
const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-_~!$&()*+,;=:@/?.]*$/;
/** Lower-case DNS labels whose last starts with a letter (not an IPv4 number), an optional port. */
const PLAIN_NAME = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?(?::([1-9][0-9]{0,4}))?$/;
/** A dotted-quad IPv4 address as URL writes it (no leading zeros), an optional port. */
const PLAIN_IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?::([1-9][0-9]{0,4}))?$/;

/**
 * `new URL(target, `${scheme}://${host}`).href`, built as a string where parsing would change
 * nothing (~1 µs per upgrade on Node 20): a plain target on a lower-case host name or IPv4 address
 * with no default or out-of-range port. Anything else (upper case, IPv6, punycode, escapes, an
 * absolute-form target) goes through URL, which also throws where no URL can be made.
 */
export function requestUrl(scheme: "http" | "https", host: string, target: string): string {
  if (PLAIN_TARGET.test(target) && !target.includes("/.") && isPlainHost(scheme, host)) return `${scheme}://${host}${target}`;
  return new URL(target, `${scheme}://${host}`).href;
}

function isPlainHost(scheme: "http" | "https", host: string): boolean {
  const match = PLAIN_NAME.exec(host) ?? PLAIN_IPV4.exec(host);
  if (!match || host.includes("xn--")) return false;
  const port = match[1];
  if (port === undefined) return true;
  const number = Number(port);
  return number <= 65535 && number !== (scheme === "http" ? 80 : 443);
}
