import type { Message, Notice } from "./message.ts";

/** Bytes `text` takes as UTF-8, without allocating. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair is 2 units and 4 bytes.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** True when `text` is over `limit` UTF-8 bytes; counts only when its length cannot decide. */
export function textExceeds(text: string, limit: number): boolean {
  // A UTF-16 unit is 1 to 3 UTF-8 bytes.
  if (text.length * 3 <= limit) return false;
  if (text.length > limit) return true;
  return utf8Length(text) > limit;
}

/** What a queued message weighs against maxQueuedBytes besides its payload: the objects that hold it. */
export const MESSAGE_OVERHEAD = 256;

/** Texts up to this many UTF-16 units are not counted when queued: at most 2 bytes each are overestimated. */
const SHORT_TEXT = 16;

/** Payload bytes of a message: UTF-8 for text, the bytes for binary and for selector values that are text or bytes. */
export function messageSize(message: Message<unknown, Notice>): number {
  if (message.type === "rate_limited") return messageSize(message.message);
  const payload =
    message.type === "text"
      ? message.text
      : message.type === "binary"
        ? message.data
        : message.type === "custom"
          ? message.value
          : undefined;
  // A short text is weighed at 3 bytes per unit, an upper bound of its UTF-8 size, without counting.
  if (typeof payload === "string") return payload.length <= SHORT_TEXT ? payload.length * 3 : utf8Length(payload);
  return payload instanceof Uint8Array ? payload.byteLength : 0;
}
