/**
 * Where an adapter's Request can read one header without making a Headers (Node's, from the raw
 * headers): `request.headers.get(name)` for a lower-case `name`, without its allocations.
 */
export const kHeader = Symbol.for("wsloop.header");
type FastHeader = { [kHeader]?: (name: string) => string | null };

/** `request.headers.get(name)`, through the adapter's fast path where it has one. */
export function header(request: Request, name: string): string | null {
  const fast = (request as FastHeader)[kHeader];
  return fast ? fast.call(request, name) : request.headers.get(name);
}
