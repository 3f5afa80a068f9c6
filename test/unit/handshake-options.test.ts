// upgradeWebSocket's handshake options in memory: headers for the 101 and trustedProxies.
import { describe, expect, it } from "vitest";
import { clientAddressOf, parseIp, proxyTrustOf } from "../../src/core/proxies.ts";
import { upgradeWebSocket } from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";

const handlers = { dependencies: null, onInit: () => [null] as const, onMessage: () => undefined as never, onClose: () => {} };

describe("headers", () => {
  it("refuses the headers the handshake writes, whatever their case", () => {
    for (const name of ["Sec-WebSocket-Accept", "sec-websocket-protocol", "Upgrade", "Connection", "Sec-WebSocket-Extensions"]) {
      expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, headers: { [name]: "x" } })).toThrow(RangeError);
    }
  });

  it("refuses a value that would split the response (Headers' own check)", () => {
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, headers: { "x-a": "1\r\nx-b: 2" } })).toThrow(TypeError);
  });

  it("refuses bad headers even when the request is not an upgrade, so a mistake shows at once", () => {
    expect(() => upgradeWebSocket(new Request("http://localhost/"), { ...handlers, headers: { upgrade: "x" } })).toThrow(
      RangeError,
    );
  });

  it("accepts ordinary headers", () => {
    expect(
      upgradeWebSocket(upgradeRequest(), {
        ...handlers,
        headers: [
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      }).status,
    ).toBe(426);
  });
});

describe("trustedProxies", () => {
  const trust = (list: string[] | number) => proxyTrustOf(list);

  it("parses IPv4, IPv6, mapped and zoned addresses", () => {
    expect(parseIp("10.1.2.3")?.slice(12)).toEqual(new Uint8Array([10, 1, 2, 3]));
    expect(parseIp("::ffff:10.1.2.3")).toEqual(parseIp("10.1.2.3"));
    expect(parseIp("::1")?.[15]).toBe(1);
    expect(parseIp("fe80::1%eth0")?.[0]).toBe(0xfe);
    expect(parseIp("2001:db8::8a2e:370:7334")?.[15]).toBe(0x34);
    for (const bad of ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", ":::", "1::2::3", "g::1", "1:2:3:4:5:6:7:8:9", "example.com"])
      expect(parseIp(bad)).toBeUndefined();
  });

  it("matches ranges, IPv4 ones against IPv4-mapped peers too", () => {
    const lan = trust(["10.0.0.0/8", "fd00::/8"]);
    expect(clientAddressOf("10.9.9.9", "203.0.113.7", lan)).toBe("203.0.113.7");
    expect(clientAddressOf("::ffff:10.9.9.9", "203.0.113.7", lan)).toBe("203.0.113.7");
    expect(clientAddressOf("fd12::1", "203.0.113.7", lan)).toBe("203.0.113.7");
    expect(clientAddressOf("11.0.0.1", "203.0.113.7", lan)).toBe("11.0.0.1");
    expect(clientAddressOf("127.0.0.1", "203.0.113.7", trust(["loopback"]))).toBe("203.0.113.7");
    expect(clientAddressOf("::1", "203.0.113.7", trust(["loopback"]))).toBe("203.0.113.7");
    expect(clientAddressOf("192.168.1.1", "203.0.113.7", trust(["private"]))).toBe("203.0.113.7");
    expect(clientAddressOf("172.32.0.1", "203.0.113.7", trust(["private"]))).toBe("172.32.0.1");
  });

  it("walks from the peer to the first hop that is not trusted; a forged entry further left is ignored", () => {
    const lan = trust(["10.0.0.0/8"]);
    expect(clientAddressOf("10.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.2", lan)).toBe("203.0.113.7");
    expect(clientAddressOf("10.0.0.1", "10.0.0.3,10.0.0.2", lan)).toBe("10.0.0.3");
    expect(clientAddressOf("10.0.0.1", null, lan)).toBe("10.0.0.1");
  });

  it("stops at an entry that is not an address, and reads one with a port", () => {
    const lan = trust(["10.0.0.0/8"]);
    expect(clientAddressOf("10.0.0.1", "203.0.113.7, unknown", lan)).toBe("10.0.0.1");
    expect(clientAddressOf("10.0.0.1", "203.0.113.7:4711", lan)).toBe("203.0.113.7");
    expect(clientAddressOf("10.0.0.1", "[2001:db8::1]:4711", lan)).toBe("2001:db8::1");
    expect(clientAddressOf("10.0.0.1", "", lan)).toBe("10.0.0.1");
  });

  it("counts hops", () => {
    expect(clientAddressOf("1.1.1.1", "3.3.3.3, 2.2.2.2", trust(0))).toBe("1.1.1.1");
    expect(clientAddressOf("1.1.1.1", "3.3.3.3, 2.2.2.2", trust(1))).toBe("2.2.2.2");
    expect(clientAddressOf("1.1.1.1", "3.3.3.3, 2.2.2.2", trust(2))).toBe("3.3.3.3");
    expect(clientAddressOf("1.1.1.1", "3.3.3.3, 2.2.2.2", trust(9))).toBe("3.3.3.3");
  });

  it("refuses malformed entries with a RangeError at upgradeWebSocket", () => {
    for (const bad of [["example.com"], ["10.0.0.0/33"], ["::1/129"], ["10.0.0.0/"], ["10.0.0.0/8x"]] as string[][])
      expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, trustedProxies: bad })).toThrow(RangeError);
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, trustedProxies: -1 })).toThrow(RangeError);
    expect(() => upgradeWebSocket(upgradeRequest(), { ...handlers, trustedProxies: 1.5 })).toThrow(RangeError);
  });
});
