import { ActionImpl, notAnAction, STOP } from "./action.ts";
import { LiveConnection, nextConnectionSerial, type Transport } from "./connection.ts";
import { keepAlive, type Liveness } from "./keepalive.ts";
import { Mailbox } from "./mailbox.ts";
import type { Message } from "./message.ts";
import { reportError } from "./report.ts";
import type { Selector } from "./selector.ts";
import { MESSAGE_OVERHEAD, messageSize, textExceeds } from "./size.ts";
import { Subscription } from "./subscription.ts";
import { isThenable } from "./thenable.ts";
import type { PendingUpgrade, UpgradeOptions } from "./upgrade.ts";
import { Waiters } from "./waiters.ts";

type AnyMessage = Message<unknown>;
/** END is the mailbox's last mail when the loop ends without a closed notice (stopConnection, a failure). */
const END = Object.freeze({ type: "end" as const });
type Mail = AnyMessage | typeof END;

/** Where the loop is. Each transition sets it in one place; user code runs only in HANDLING and CLOSING. */
const Phase = {
  NEW: 0, // built, nothing has run
  INITIALIZING: 1, // onInit is running or awaited; mail queues
  IDLE: 2, // nothing queued, nothing running
  SCHEDULED: 3, // mail is queued and a turn is scheduled
  HANDLING: 4, // a turn is running onMessage
  AWAITING: 5, // onMessage's promise is pending; mail queues
  CLOSING: 6, // onClose is running or awaited; mail is dropped
  FINISHED: 7,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** What a session hands out (a turn's microtask, a selector's callbacks, a promise's), made once when first needed. */
type Callbacks = Record<"turn" | "deliver" | "fail" | "resume" | "reject", (value?: unknown) => void>;

/**
 * One connection's loop, an actor with one mailbox: `onInit`, then `onMessage` for each message
 * strictly one at a time and in order, then `onClose` exactly once. Outside events (frames, the
 * socket's close, selector values, the limits' verdicts) only put mail in the mailbox; only the
 * loop's own turn runs user code. Adapters feed it; it never knows which runtime it runs on.
 */
export class Session {
  readonly connection: LiveConnection;
  readonly #options: UpgradeOptions<unknown, unknown, unknown>;
  readonly #onFinish: ((session: Session) => void) | undefined;
  /** Made at the first mail that has to wait: an idle connection, whose frames are handled at once, has none. */
  #mailbox: Mailbox<Mail> | undefined;
  #phase: Phase = Phase.NEW;
  #state: unknown;
  #hasState = false;
  /** The message whose async handler is pending. */
  #current: AnyMessage | undefined;
  /** Made at the first selector. */
  #subscription: Subscription | undefined;
  #liveness: Liveness | undefined;
  #callbacks: Callbacks | undefined;
  #waiters: Waiters | undefined;

  /** `onFinish` is told once `onClose` settled (or was skipped because `onInit` failed). */
  constructor(pending: PendingUpgrade, transport: Transport, onFinish?: (session: Session) => void) {
    this.#options = pending.options;
    this.#onFinish = onFinish;
    this.connection = new LiveConnection(
      nextConnectionSerial(),
      pending.request,
      pending.protocol,
      transport,
      pending.limits,
      this,
    );
  }

  /** Runs `onInit`. Adapters call it once, after registering the session. */
  start(): void {
    if (this.#phase !== Phase.NEW) return;
    this.#phase = Phase.INITIALIZING;
    this.#liveness = keepAlive(this.connection.transport, this.connection.limits.idleTimeout, this);
    let result: unknown;
    try {
      result = this.#options.onInit(this.connection, this.#options.dependencies);
    } catch (error) {
      this.#initFailed(error);
      return;
    }
    if (isThenable(result))
      result.then(
        (value) => this.#initialized(value),
        (error: unknown) => this.#initFailed(error),
      );
    else this.#initialized(result);
  }

  /** A text frame from the client. */
  text(text: string): void {
    this.#frame({ type: "text", text }, textExceeds(text, this.connection.limits.maxMessageSize));
  }

  /** A binary frame from the client. */
  binary(data: Uint8Array): void {
    this.#frame({ type: "binary", data }, data.byteLength > this.connection.limits.maxMessageSize);
  }

  /** A ping or pong frame from the client: it is alive. */
  heard(): void {
    this.#liveness?.heard();
  }

  /** A value from the active selector (or the test harness): never handled in the caller's stack. */
  custom(value: unknown): void {
    if (!this.#terminal) this.#enqueue({ type: "custom", value });
  }

  /** The socket closed underneath, for any reason: the closed notice goes behind what is queued. */
  closed(code: number, reason: string): void {
    this.connection.closed();
    if (!this.#terminal) this.#seal({ type: "closed", code, reason });
  }

  /** The server closes the socket (oversize frame, a limit, shutdown): the closed notice carries `code`. */
  closeWith(code: number, reason: string): void {
    if (this.#terminal) return;
    this.#seal({ type: "closed", code, reason });
    this.connection.close(code, reason);
  }

  /** Settles once `onClose` has settled (or was skipped because `onInit` failed). */
  get finished(): Promise<void> {
    if (this.#phase === Phase.FINISHED) return Promise.resolve();
    this.#waiters ??= new Waiters();
    return this.#waiters.wait(true);
  }

  /** Resolves when no handler is running and nothing is queued, or once the loop has finished. */
  whenIdle(): Promise<void> {
    if (this.#phase === Phase.IDLE || this.#phase === Phase.FINISHED) return Promise.resolve();
    this.#waiters ??= new Waiters();
    return this.#waiters.wait(false);
  }

  /** The last state a handler returned; undefined before `onInit` returned. */
  get state(): unknown {
    return this.#state;
  }

  /** What the queued messages weigh (see maxQueuedBytes). */
  get queuedBytes(): number {
    return this.#mailbox?.bytes ?? 0;
  }

  /** True once `onClose` has been called (it never is when `onInit` failed). */
  get closeCalled(): boolean {
    return this.#phase >= Phase.CLOSING && this.#hasState;
  }

  #frame(message: AnyMessage, tooLarge: boolean): void {
    this.#liveness?.heard();
    if (this.#terminal) return;
    if (tooLarge) this.closeWith(1009, "Message Too Big");
    // A frame comes from the runtime's I/O callback, never from user code: with nothing queued or
    // running, this is the loop's turn, taken at once without a trip through the mailbox.
    else if (this.#phase === Phase.IDLE) this.#turn(message);
    else this.#enqueue(message);
  }

  #enqueue(message: AnyMessage): void {
    const mailbox = this.#openMailbox();
    mailbox.push(message, messageSize(message) + MESSAGE_OVERHEAD);
    // Whoever fills it (a client outrunning an async handler, a topic busier than it) is stopped here.
    if (mailbox.bytes > this.connection.limits.maxQueuedBytes) this.closeWith(1008, "Too many queued messages");
    else this.#schedule();
  }

  /** The loop is ending: `terminal` is the last mail. What was queued before a closed notice is still handled, for closeTimeout at most. */
  #seal(terminal: Mail): void {
    this.connection.open = false;
    const mailbox = this.#openMailbox();
    if (terminal === END) mailbox.seal(END);
    else mailbox.seal(terminal, this.connection.limits.closeTimeout * 1000);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#phase !== Phase.IDLE) return;
    this.#phase = Phase.SCHEDULED;
    queueMicrotask(this.#bound.turn);
  }

  /** Handles `first`, then the mailbox, until it is empty, a handler is pending or the loop ended. */
  #turn(first?: Mail): void {
    this.#phase = Phase.HANDLING;
    for (let mail = first ?? this.#mailbox?.shift(); mail !== undefined; mail = this.#mailbox?.shift()) {
      if (!this.#handle(mail)) return;
    }
    this.#phase = Phase.IDLE;
    this.#waiters?.release(false);
  }

  /** True when the mail was handled synchronously and the loop goes on. */
  #handle(mail: Mail): boolean {
    if (mail.type === "end") return this.#end();
    let result: unknown;
    try {
      result = this.#options.onMessage(this.#state, mail, this.connection, this.#options.dependencies);
    } catch (error) {
      return this.#failed(mail, error);
    }
    if (result instanceof ActionImpl || !isThenable(result)) return this.#apply(mail, result);
    this.#phase = Phase.AWAITING;
    this.#current = mail;
    const bound = this.#bound;
    result.then(bound.resume, bound.reject);
    return false;
  }

  #apply(message: AnyMessage, result: unknown): boolean {
    // Whatever answers the closed notice is ignored: the socket is gone.
    if (message.type === "closed") return this.#end();
    if (!(result instanceof ActionImpl)) return this.#failed(message, notAnAction(result));
    if (result.kind === STOP) {
      this.connection.close(result.code, result.reason);
      return this.#end();
    }
    this.#state = result.state;
    if (result.selector !== undefined && !this.#subscription?.has(result.selector)) this.#select(result.selector);
    return true;
  }

  /** A handler threw, rejected or returned no Action. The loop goes on only to take the END queued by #fail. */
  #failed(message: AnyMessage, error: unknown): boolean {
    if (message.type !== "closed") {
      this.#fail(error);
      return true;
    }
    // The socket is gone already: nothing to close with 1011.
    this.#report(error);
    return this.#end();
  }

  /** What is queued is dropped for END, and the socket closed with 1011; the loop takes END in its next turn. */
  #fail(error: unknown): void {
    this.#report(error);
    if (this.#terminal === END || this.#phase >= Phase.CLOSING) return;
    this.#mailbox?.clear();
    this.#seal(END);
    this.connection.close(1011, "Internal Error");
  }

  #initialized(result: unknown): void {
    if (!Array.isArray(result)) {
      this.#initFailed(new TypeError("wsloop: onInit must return [state] or [state, selector]"));
      return;
    }
    this.#state = result[0];
    this.#hasState = true;
    if (result[1]) this.#select(result[1] as Selector<unknown>);
    this.#turn();
  }

  #initFailed(error: unknown): void {
    this.#report(error);
    this.connection.close(1011, "Internal Error");
    this.#end();
  }

  #select(selector: Selector<unknown>): void {
    this.#dropSelector();
    if (this.#terminal) return;
    try {
      this.#subscription ??= new Subscription();
      this.#subscription.subscribe(selector, this.#bound.deliver, this.#bound.fail);
    } catch (error) {
      this.#fail(error);
    }
    // It failed while subscribing: let go of it at once.
    if (this.#terminal) this.#dropSelector();
  }

  /** The one way out: releases everything, runs `onClose` once (if `onInit` succeeded), then settles. */
  #end(): false {
    this.#phase = Phase.CLOSING;
    const mailbox = this.#openMailbox();
    mailbox.terminal ??= END;
    this.connection.open = false;
    mailbox.clear();
    const { dropped } = mailbox;
    if (dropped > 0)
      this.#report(new Error(`wsloop: ${dropped} queued messages dropped: closeTimeout passed after the socket closed`));
    this.#dropSelector();
    this.#liveness?.stop();
    // Leaving removes the membership from the array: walk a copy.
    for (const membership of [...(this.connection.memberships ?? [])]) membership.leave();
    if (!this.#hasState) {
      this.#settle();
      return false;
    }
    let result: unknown;
    try {
      result = this.#options.onClose(this.#state, this.#options.dependencies);
    } catch (error) {
      this.#report(error);
    }
    if (isThenable(result))
      result.then(
        () => this.#settle(),
        (error: unknown) => this.#settle(error),
      );
    else this.#settle();
    return false;
  }

  #settle(error?: unknown): void {
    if (error !== undefined) this.#report(error);
    this.#phase = Phase.FINISHED;
    this.#onFinish?.(this);
    this.#waiters?.release(true);
  }

  get #bound(): Callbacks {
    this.#callbacks ??= {
      turn: () => {
        if (this.#phase === Phase.SCHEDULED) this.#turn();
      },
      deliver: (value) => this.custom(value),
      fail: (error) => this.#fail(error),
      resume: (result) => {
        if (this.#apply(this.#resumed(), result)) this.#turn();
      },
      reject: (error) => {
        if (this.#failed(this.#resumed(), error)) this.#turn();
      },
    };
    return this.#callbacks;
  }

  /** An async handler settled: back in the turn, with the message it handled. */
  #resumed(): AnyMessage {
    const message = this.#current as AnyMessage;
    this.#current = undefined;
    this.#phase = Phase.HANDLING;
    return message;
  }

  /** The mailbox's last mail, once the loop is ending. */
  get #terminal(): Mail | undefined {
    return this.#mailbox?.terminal;
  }

  #openMailbox(): Mailbox<Mail> {
    this.#mailbox ??= new Mailbox<Mail>();
    return this.#mailbox;
  }

  #dropSelector(): void {
    const failure = this.#subscription?.drop();
    if (failure) this.#report(failure.error);
  }

  #report(error: unknown): void {
    reportError(this.#options.onError, this.connection, error);
  }
}
