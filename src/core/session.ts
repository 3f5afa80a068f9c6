import { ActionImpl, notAnAction, STOP } from "./action.ts";
import { LiveConnection, nextConnectionSerial, type Transport } from "./connection.ts";
import { admit, enqueue } from "./flow.ts";
import { keepAlive, type Liveness } from "./keepalive.ts";
import { Mailbox } from "./mailbox.ts";
import { type AnyMessage, END, type Mail, Phase } from "./phase.ts";
import { reportError } from "./report.ts";
import type { Selector } from "./selector.ts";
import { textExceeds } from "./size.ts";
import { onMessage } from "./stats.ts";
import { type SelectorOwner, Subscription } from "./subscription.ts";
import { isThenable } from "./thenable.ts";
import type { AnyOptions, PendingUpgrade } from "./upgrade.ts";
import { Waiters } from "./waiters.ts";

/** What a session's state is before `onInit` returned one. */
const NO_STATE: unique symbol = Symbol("wsloop.noState");

/**
 * The functions a session hands to queueMicrotask (made at the first mail that waits: every closing
 * connection's) and to a handler's promise (made at the first async handler's result).
 */
interface Callbacks {
  readonly turn: () => void;
  /** The message whose async handler is pending. */
  current: AnyMessage | undefined;
  resume: ((result: unknown) => void) | undefined;
  reject: ((error: unknown) => void) | undefined;
}

/**
 * One connection's loop, an actor with one mailbox: `onInit`, then `onMessage` for each message
 * strictly one at a time and in order, then `onClose` exactly once. Outside events (frames, the
 * socket's close, selector values, the limits' verdicts) only put mail in the mailbox; only the
 * loop's own turn runs user code. Adapters feed it; it never knows which runtime it runs on.
 */
export class Session implements SelectorOwner {
  readonly connection: LiveConnection;
  readonly #options: AnyOptions;
  readonly #onFinish: ((session: Session) => void) | undefined;
  /** Made at the first mail that has to wait: an idle connection, whose frames are handled at once, has none. */
  #mailbox: Mailbox<Mail> | undefined;
  #phase: Phase = Phase.NEW;
  /** NO_STATE until `onInit` returned (a field less than a flag beside it: see listPrev). */
  #state: unknown = NO_STATE;
  #subscription: Subscription | undefined;
  #liveness: Liveness | undefined;
  #callbacks: Callbacks | undefined;
  #waiters: Waiters | undefined;
  /**
   * Its place in the server's list of unfinished sessions (the adapters' LiveSessions): two fields
   * here rather than a Set entry (~100 B per connection on Bun). Twelve fields fit JSC's 112-byte
   * cell; a thirteenth takes the 160-byte one.
   */
  listPrev: Session | undefined = undefined;
  listNext: Session | undefined = undefined;

  /** `onFinish` is told once `onClose` settled (or was skipped because `onInit` failed). */
  constructor(pending: PendingUpgrade, transport: Transport, onFinish?: (session: Session) => void) {
    this.#options = pending.options;
    this.#onFinish = onFinish;
    const { request, protocol, limits } = pending;
    this.connection = new LiveConnection(nextConnectionSerial(), request, protocol, transport, limits, this);
  }

  /** Runs `onInit`; adapters call it once, after registering the session. Given `restored` (a Durable Object woken from hibernation), the loop goes on with that state and selector instead, without `onInit`. */
  start(restored?: readonly [state: unknown, selector?: Selector<unknown>]): void {
    if (this.#phase !== Phase.NEW) return;
    this.#phase = Phase.INITIALIZING;
    this.#liveness = keepAlive(this.connection.transport, this.connection.limits.idleTimeout, this);
    // A value or a throw is handled at once; closures only for an onInit that returns a promise.
    let result: unknown;
    try {
      result = restored ?? this.#options.onInit(this.connection, this.#options.dependencies);
    } catch (error) {
      this.#initFailed(error);
      return;
    }
    // Adopted: a native promise is itself; another thenable's throwing `then` becomes a rejection.
    if (isThenable(result))
      Promise.resolve(result).then(
        (value) => this.#initialized(value),
        (error) => this.#initFailed(error),
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
    if (!this.#mailbox?.terminal) this.#enqueue({ type: "custom", value });
  }

  /** The socket closed underneath, for any reason: the closed notice goes behind what is queued. */
  closed(code: number, reason: string): void {
    this.connection.closed(code);
    if (!this.#mailbox?.terminal) this.#seal({ type: "closed", code, reason });
  }

  /** The server closes the socket (oversize frame, a limit, shutdown): the closed notice carries `code`. */
  closeWith(code: number, reason: string): void {
    if (this.#mailbox?.terminal) return;
    this.#seal({ type: "closed", code, reason });
    this.connection.close(code, reason);
  }

  /** A handler or the selector failed: what is queued is dropped for END, and the socket closed with 1011. */
  fail(error: unknown): void {
    this.report(error);
    if (this.#mailbox?.terminal === END || this.#phase >= Phase.CLOSING) return;
    this.#mailbox?.clear();
    this.#seal(END);
    this.connection.close(1011, "Internal Error");
  }

  /** Settles once `onClose` has settled (or was skipped because `onInit` failed). */
  get finished(): Promise<void> {
    return this.#phase === Phase.FINISHED ? Promise.resolve() : this.#wait(true);
  }

  /** Resolves when no handler is running and nothing is queued, or once the loop has finished. */
  whenIdle(): Promise<void> {
    return this.#phase === Phase.IDLE || this.#phase === Phase.FINISHED ? Promise.resolve() : this.#wait(false);
  }

  /** The last state a handler returned; undefined before `onInit` returned. */
  get state(): unknown {
    return this.#state === NO_STATE ? undefined : this.#state;
  }

  /** What is queued (`bytes`: its weight, see maxQueuedBytes) and whether reading is `paused`; none until mail waited. */
  get mailbox(): { readonly bytes: number; readonly paused: boolean } | undefined {
    return this.#mailbox;
  }

  /** True once `onClose` has been called (it never is when `onInit` failed). */
  get closeCalled(): boolean {
    return this.#phase >= Phase.CLOSING && this.#state !== NO_STATE;
  }

  #frame(frame: AnyMessage, tooLarge: boolean): void {
    this.#liveness?.heard();
    if (this.#mailbox?.terminal) return;
    const message = this.connection.limits.rateRule === undefined ? frame : admit(frame, this.connection);
    if (tooLarge) this.closeWith(1009, "Message Too Big");
    else if (message === undefined) this.closeWith(1008, "Rate limit exceeded");
    // A frame comes from the runtime's I/O callback, never from user code: with nothing queued or
    // running, this is the loop's turn, taken at once without a trip through the mailbox.
    else if (this.#phase === Phase.IDLE) this.#turn(message);
    else this.#enqueue(message);
  }

  #enqueue(message: AnyMessage): void {
    this.#mailbox ??= new Mailbox<Mail>();
    // Whoever fills it (a client outrunning an async handler, a topic busier than it) is stopped here.
    if (!enqueue(this.#mailbox, message, this.connection)) this.closeWith(1008, "Too many queued messages");
    else if (this.#phase === Phase.IDLE) this.#schedule();
  }

  /** The loop is ending: `terminal` is the last mail. What was queued before a closed notice is still handled, for closeTimeout at most. */
  #seal(terminal: Mail): void {
    this.connection.open = false;
    this.#mailbox ??= new Mailbox<Mail>();
    this.#mailbox.seal(terminal, terminal === END ? undefined : this.connection.limits.closeTimeout * 1000);
    if (this.#phase === Phase.IDLE) this.#schedule();
  }

  #schedule(): void {
    this.#phase = Phase.SCHEDULED;
    queueMicrotask((this.#callbacks ?? this.#bind()).turn);
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
      result = onMessage(this.#options, this.#state, mail, this.connection);
    } catch (error) {
      return this.#failed(mail, error);
    }
    if (result instanceof ActionImpl || !isThenable(result)) return this.#apply(mail, result);
    this.#phase = Phase.AWAITING;
    const callbacks = this.#awaiting();
    callbacks.current = mail;
    // A native promise is itself (no cost); another thenable's `then` is called later, where its
    // throw is a rejection like any other, not an exception in the runtime's I/O callback.
    Promise.resolve(result).then(callbacks.resume, callbacks.reject);
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
    if (result.selector !== undefined) this.#select(result.selector);
    return true;
  }

  /** A handler threw, rejected or returned no Action. The loop goes on only to take the END queued by fail. */
  #failed(message: AnyMessage, error: unknown): boolean {
    if (message.type !== "closed") {
      this.fail(error);
      return true;
    }
    // The socket is gone already: nothing to close with 1011.
    this.report(error);
    return this.#end();
  }

  #initialized(result: unknown): void {
    if (!Array.isArray(result)) {
      this.#initFailed(new TypeError("wsloop: onInit must return [state] or [state, selector]"));
      return;
    }
    this.#state = result[0];
    if (result[1]) this.#select(result[1] as Selector<unknown>);
    this.#turn();
  }

  #initFailed(error: unknown): void {
    this.report(error);
    this.connection.close(1011, "Internal Error");
    this.#end();
  }

  #select(selector: Selector<unknown>): void {
    this.#subscription ??= new Subscription(this);
    this.#subscription.select(selector);
  }

  /** The one way out: releases everything, runs `onClose` once (if `onInit` succeeded), then settles. */
  #end(): false {
    this.#phase = Phase.CLOSING;
    this.connection.open = false;
    this.#mailbox ??= new Mailbox<Mail>();
    this.#mailbox.terminal ??= END;
    const dropped = this.#mailbox.clear();
    if (dropped > 0)
      this.report(new Error(`wsloop: ${dropped} queued messages dropped: closeTimeout passed after the socket closed`));
    this.#subscription?.drop();
    this.#liveness?.stop();
    this.connection.leaveAll();
    if (this.#state === NO_STATE) return this.#settle();
    // As in start: closures only for an onClose that returns a promise.
    let result: unknown;
    try {
      result = this.#options.onClose(this.#state, this.#options.dependencies);
    } catch (error) {
      return this.#settle(error);
    }
    if (isThenable(result))
      Promise.resolve(result).then(
        () => this.#settle(),
        (error) => this.#settle(error),
      );
    else this.#settle();
    return false;
  }

  #settle(error?: unknown): false {
    if (error !== undefined) this.report(error);
    this.#phase = Phase.FINISHED;
    this.#onFinish?.(this);
    this.#waiters?.release(true);
    return false;
  }

  #bind(): Callbacks {
    this.#callbacks = {
      turn: () => {
        if (this.#phase === Phase.SCHEDULED) this.#turn();
      },
      current: undefined,
      resume: undefined,
      reject: undefined,
    };
    return this.#callbacks;
  }

  /** The callbacks, with an async handler's resume and reject (made at the first one). */
  #awaiting(): Required<Callbacks> {
    const callbacks = this.#callbacks ?? this.#bind();
    // An async handler settled: back in the turn, with the message it handled.
    callbacks.resume ??= (value) => {
      if (this.#apply(this.#resumed(), value)) this.#turn();
    };
    callbacks.reject ??= (error) => {
      if (this.#failed(this.#resumed(), error)) this.#turn();
    };
    return callbacks as Required<Callbacks>;
  }

  #resumed(): AnyMessage {
    const callbacks = this.#callbacks as Callbacks;
    const message = callbacks.current as AnyMessage;
    callbacks.current = undefined;
    this.#phase = Phase.HANDLING;
    return message;
  }

  #wait(untilFinished: boolean): Promise<void> {
    this.#waiters ??= new Waiters();
    return this.#waiters.wait(untilFinished);
  }

  /** True once the loop is ending: its last mail is queued. */
  get ending(): boolean {
    return this.#mailbox?.terminal !== undefined;
  }

  /** Hands `error` to the app's onError (or the console). */
  report(error: unknown): void {
    reportError(this.#options.onError, this.connection, error);
  }
}
