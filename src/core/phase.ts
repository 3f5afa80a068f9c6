import type { Message, Notice } from "./message.ts";

/**
 * Where a connection's loop is (and the mail that ends it). Each transition is made in one place in session.ts; user code runs
 * only in HANDLING (onMessage) and CLOSING (onClose), onInit in INITIALIZING.
 *
 *   NEW → INITIALIZING → HANDLING     onInit returned: the first turn
 *   IDLE → SCHEDULED → HANDLING       mail was queued: a turn in a microtask
 *   IDLE → HANDLING                   a frame on an idle loop: its turn at once
 *   HANDLING → AWAITING → HANDLING    an async onMessage, until it settles
 *   HANDLING → IDLE                   the mailbox is empty
 *   any → CLOSING → FINISHED          the one way out: onClose once, then settled
 */
export const Phase = {
  NEW: 0, // built, nothing has run
  INITIALIZING: 1, // onInit is running or awaited; mail queues
  IDLE: 2, // nothing queued, nothing running
  SCHEDULED: 3, // mail is queued and a turn is scheduled
  HANDLING: 4, // a turn is running onMessage
  AWAITING: 5, // onMessage's promise is pending; mail queues
  CLOSING: 6, // onClose is running or awaited; mail is dropped
  FINISHED: 7,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** The mailbox's last mail when the loop ends without a closed notice (stopConnection, a failure). */
export const END = Object.freeze({ type: "end" as const });
/** Any message a loop handles, notices included. */
export type AnyMessage = Message<unknown, Notice>;
/** What a loop's mailbox holds: messages for onMessage, then its closed notice or END. */
export type Mail = AnyMessage | typeof END;
