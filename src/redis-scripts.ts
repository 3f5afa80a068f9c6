// The Lua scripts of the Redis Streams broker. Each runs atomically in Redis.

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
