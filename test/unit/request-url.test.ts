// Node's upgrade Request builds its URL as a string where URL parsing would change nothing: it must
// equal what URL makes of the same target and host, and throw where URL throws.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requestUrl } from "../../src/adapters/request-url.ts";

const parsed = (scheme: "http" | "https", host: string, target: string): string => {
  try {
    return new URL(target, `${scheme}://${host}`).href;
  } catch {
    return "throws";
  }
};
const built = (scheme: "http" | "https", host: string, target: string): string => {
  try {
    return requestUrl(scheme, host, target);
  } catch {
    return "throws";
  }
};

describe("requestUrl", () => {
  const hosts = [
    "localhost",
    "127.0.0.1:3000",
    "example.com",
    "example.com:80",
    "example.com:443",
    "example.com:080",
    "example.com:65536",
    "example.com:",
    "Example.COM",
    "a..b",
    "a.b.",
    "-a.b",
    "1.2.3",
    "0x7f.0.0.1",
    "127.000.0.1",
    "256.0.0.1",
    "a.1",
    "a.0x1",
    "xn--nxasmq6b.com",
    "xn--a.com",
    "[::1]:8080",
    "a b",
    "a@b",
    "",
  ];
  const targets = [
    "/",
    "/ws?x=1&y=2",
    "//evil.example/x",
    "/a/./b",
    "/a/../b",
    "/a/%2e%2e/b",
    "/.well-known/x",
    "/a?b=/../c",
    "/a b",
    "/a#b",
    "/a\\b",
    "/a'b?c'd",
    "/é",
    "/a?<b>",
    "/~a-b_c.d!$&()*+,;=:@",
    "http://other.example/x",
    "*",
    "",
  ];

  it("equals new URL(target, base).href for known edge cases, on both schemes", () => {
    for (const scheme of ["http", "https"] as const)
      for (const host of hosts)
        for (const target of targets)
          expect([host, target, built(scheme, host, target)]).toEqual([host, target, parsed(scheme, host, target)]);
  });

  it("equals new URL(target, base).href for generated hosts and targets", () => {
    const chars = (alphabet: string, max: number) =>
      fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((list) => list.join(""));
    const host = fc.oneof(
      chars("abcxyzAZ0129-.:n", 24),
      fc
        .tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(70000))
        .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}:${p}`),
    );
    const target = chars("/.?%#&=aZ09-_~'\"<> \\@:+2eE", 24).map((rest) => `/${rest}`);
    fc.assert(
      fc.property(fc.constantFrom("http" as const, "https" as const), host, target, (scheme, h, t) => {
        expect(built(scheme, h, t)).toBe(parsed(scheme, h, t));
      }),
      { numRuns: 20_000 },
    );
  });
});
