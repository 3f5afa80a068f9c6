// What the Redis Streams broker says to Redis and reads back: its Lua scripts (each runs
// atomically) and the replies' shapes.
import { Buffer } from "node:buffer";
import { RESP_TYPES } from "redis";
import { parseId, type StreamEntry, type StreamId } from "./core/stream.ts";

/** Replies with bulk strings as Buffers (payloads may be bytes) and maps as flat arrays. */
export const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.MAP]: Array } } as const;

export type Reply = Buffer | null | Reply[];

/** How soon a command Redis refused while connected (LOADING after a restart) is tried again. */
export const RETRY_MS = 250;

/**
 * Appends one message. KEYS: the stream, its meta hash. ARGV: kind (`t` text, `b` bytes), payload,
 * maxLength (0: none), maxAge in ms (0: none). The id is `MS-SEQ`: Redis' clock (never going back
 * within a stream) and the topic's message number, so a reader tells a gap by the numbers. The
 * meta hash keeps the last id and the id of message 1 (a stream that was lost starts again at 1).
 */
export const PUBLISH = `
local last = redis.call('HGET', KEYS[2], 'last')
local ms, seq = 0, 0
if last then
  local dash = string.find(last, '-', 1, true)
  ms = tonumber(string.sub(last, 1, dash - 1))
  seq = tonumber(string.sub(last, dash + 1))
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if now > ms then ms = now end
seq = seq + 1
local id = string.format('%.0f-%.0f', ms, seq)
local maxLength = tonumber(ARGV[3])
local maxAge = tonumber(ARGV[4])
if maxLength > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxLength, id, 'k', ARGV[1], 'p', ARGV[2])
else
  redis.call('XADD', KEYS[1], id, 'k', ARGV[1], 'p', ARGV[2])
end
redis.call('HSET', KEYS[2], 'last', id)
if seq == 1 then redis.call('HSET', KEYS[2], 'first', id) end
if maxAge > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f-0', now - maxAge))
  redis.call('PEXPIRE', KEYS[1], maxAge)
  redis.call('PEXPIRE', KEYS[2], maxAge)
end
return id
`;

/**
 * Reads what follows an id. KEYS: the stream, its meta hash. ARGV: the id, how many. Returns the
 * last id, the first id (false when none) and the entries, read at one moment.
 */
export const RANGE = `
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
local meta = redis.call('HMGET', KEYS[2], 'last', 'first')
return { meta[1], meta[2], entries }
`;

export function idOf(raw: Reply | undefined): StreamId | undefined {
  return raw instanceof Buffer ? parseId(raw.toString("latin1")) : undefined;
}

/** `[id, [field, value, …]]` as a stream entry, its payload text or bytes by its `k` field. */
export function entryOf(raw: Reply): StreamEntry | undefined {
  if (!Array.isArray(raw)) return undefined;
  const id = idOf(raw[0]);
  const fields = raw[1];
  if (!id || !Array.isArray(fields)) return undefined;
  let kind = "t";
  let payload: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = String(fields[i]);
    if (name === "k") kind = String(fields[i + 1]);
    else if (name === "p") payload = fields[i + 1] as Buffer;
  }
  if (!(payload instanceof Buffer)) return undefined;
  return {
    id,
    payload: kind === "b" ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) : payload.toString("utf8"),
  };
}
