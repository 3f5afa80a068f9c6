// The messages sent while disconnected, bounded in count and bytes.
import type { ClientSendError, QueueOptions } from "./types.ts";

/** A frame's payload: text or bytes. */
export type Payload = string | Uint8Array;

/** The UTF-8 size of a string (as TextEncoder would encode it), without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if ((unit & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair
      i++;
    } else bytes += 3; // the rest of the BMP, and a lone surrogate (encoded as U+FFFD)
  }
  return bytes;
}

export interface Outbox {
  readonly items: Payload[];
  /** Queues `payload` (of `size` bytes), or says why not. */
  add(payload: Payload, size: number): ClientSendError | undefined;
  /** Removes and returns the oldest. */
  take(): Payload | undefined;
  /** Empties the queue; returns how many were dropped. */
  clear(): number;
}

export function createOutbox(options: QueueOptions): Outbox {
  const maxMessages = options.maxMessages ?? 100;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const dropOldest = options.overflow === "drop-oldest";
  const items: Payload[] = [];
  const sizes: number[] = [];
  let bytes = 0;
  const take = () => {
    bytes -= sizes.shift() ?? 0;
    return items.shift();
  };
  return {
    items,
    add(payload, size) {
      if (size > maxBytes) return { type: "too_large", size, limit: maxBytes };
      while (items.length >= maxMessages || bytes + size > maxBytes) {
        if (!dropOldest || items.length === 0) return { type: "queue_full", messages: items.length, bytes };
        take();
      }
      items.push(payload);
      sizes.push(size);
      bytes += size;
      return undefined;
    },
    take,
    clear() {
      const count = items.length;
      items.length = sizes.length = bytes = 0;
      return count;
    },
  };
}
