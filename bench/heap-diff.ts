// What N connections added to the heap, by constructor: two V8-format heap snapshots (Node, Deno,
// Bun's node:v8) written by bench/memory.ts --snapshots=PREFIX, diffed per connection.
//   node bench/heap-diff.ts PREFIX CONNECTIONS [TOP] [OTHER_PREFIX]   (with OTHER: PREFIX's minus OTHER's)
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

// Plain objects, arrays, closures and strings are named by what holds them (`Holder.edge`).
const GENERIC = new Set([
  "Object",
  "Array",
  "",
  "system / Context",
  "system / PropertyArray",
  "(object elements)",
  "(object properties)",
]);

function tally(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [number, number, number];
  const edgeWidth = snap.snapshot.meta.edge_fields.length;
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const countAt = fields.indexOf("edge_count");
  // The first strong holder of each node: its name and the edge's.
  const holder = new Map<number, string>();
  const holderIndex = new Map<number, number>();
  const label = (i: number) => {
    const type = types[snap.nodes[i + typeAt] as number] as string;
    const name = snap.strings[snap.nodes[i + nameAt] as number] as string;
    return type === "closure" ? `closure ${name}` : name;
  };
  for (let i = 0, e = 0; i < snap.nodes.length; i += width) {
    const count = snap.nodes[i + countAt] as number;
    for (let k = 0; k < count; k++, e += edgeWidth) {
      const edgeType = edgeTypes[snap.edges[e] as number] as string;
      if (edgeType === "weak" || edgeType === "shortcut") continue;
      const to = snap.edges[e + 2] as number;
      if (holder.has(to)) continue;
      const nameOrIndex = snap.edges[e + 1] as number;
      const edgeName =
        edgeType === "element" || edgeType === "hidden" ? `[${nameOrIndex}]` : (snap.strings[nameOrIndex] as string);
      holder.set(to, `${label(i)}.${edgeName}`.slice(0, 70));
      holderIndex.set(to, i);
    }
  }
  const totals = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] as number] as string;
    let name = snap.strings[snap.nodes[i + nameAt] as number] as string;
    if (type === "string" || type === "concatenated string" || type === "sliced string" || type === "number") name = "";
    const generic = GENERIC.has(name) || ["closure", "string", "array", "native", "hidden"].includes(type);
    // Two levels up for what a plain array or object holds (`Array.elements <- WebSocket._events.close`).
    const up = holderIndex.get(i);
    const upName = up === undefined ? "" : (snap.strings[snap.nodes[up + nameAt] as number] as string);
    const second = generic && up !== undefined && GENERIC.has(upName) ? ` <- ${holder.get(up) ?? "?"}` : "";
    const key = `${type}:${name.slice(0, 50)}${generic ? ` <- ${holder.get(i) ?? "?"}${second}` : ""}`;
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] as number;
    totals.set(key, entry);
  }
  return totals;
}

const [prefix, n, top, other] = process.argv.slice(2);
const connections = Number(n);
function perConnection(prefix: string): Map<string, { count: number; bytes: number }> {
  const before = tally(`${prefix}-before.heapsnapshot`);
  const after = tally(`${prefix}-after.heapsnapshot`);
  const rows = new Map<string, { count: number; bytes: number }>();
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = after.get(key) ?? { count: 0, bytes: 0 };
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    rows.set(key, { count: (a.count - b.count) / connections, bytes: (a.bytes - b.bytes) / connections });
  }
  return rows;
}
const mine = perConnection(prefix as string);
const theirs = other ? perConnection(other) : new Map<string, { count: number; bytes: number }>();
const rows = [...new Set([...mine.keys(), ...theirs.keys()])].map((key) => {
  const a = mine.get(key) ?? { count: 0, bytes: 0 };
  const b = theirs.get(key) ?? { count: 0, bytes: 0 };
  return { key, count: a.count - b.count, bytes: a.bytes - b.bytes };
});
rows.sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes));
let total = 0;
for (const row of rows) total += row.bytes;
console.log(`total ${total.toFixed(0)} bytes per connection`);
for (const row of rows.slice(0, Number(top ?? 40)))
  if (Math.abs(row.bytes) >= 1)
    console.log(`${row.bytes.toFixed(1).padStart(8)}  ${row.count.toFixed(2).padStart(6)}×  ${row.key}`);
