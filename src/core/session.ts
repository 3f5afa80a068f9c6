import { ActionImpl, STOP } from "./action.ts";
import { LiveConnection, nextConnectionId, type Transport } from "./connection.ts";
import { Liveness, unref, watchIdle } from "./keepalive.ts";
import type { Message } from "./message.ts";
import type { Selector } from "./selector.ts";
import { textExceeds } from "./size.ts";
import type { PendingUpgrade, UpgradeOptions } from "./upgrade.ts";

type AnyMessage = Message<unknown>;
type Options = UpgradeOptions<unknown, unknown, unknown>;

/** Consumed queue slots kept before they are dropped in one splice. */
const COMPACT_AFTER = 1024;
/** How long a client that stopped reading or answering gets to finish the closing handshake. */
const CLOSE_GRACE_MS = 2000;

/**
 * One connection's loop: `onInit`, then `onMessage` for each message strictly one at a time and in
 * order, then `onClose` exactly once. Adapters feed it frames and the socket's close; it never
 * knows which runtime it runs on.
 */
export class Session {
  readonly connection: LiveConnection;

  readonly #options: Options;
  #state: unknown = undefined;
  #hasState = false;
  #queue: (AnyMessage | undefined)[] = [];
  #head = 0;
  /** Bytes of the client's text and binary messages in the queue (see maxQueuedBytes). */
  #queuedBytes = 0;
  /** A handler is running (sync or async): new messages wait in the queue. */
  #busy = true;
  /** The message whose async handler is pending. */
  #current: AnyMessage | undefined;
  /** False once the closed notice is queued or the loop was stopped: later input is dropped. */
  #accepting = true;
  /** `onClose` has started (or was skipped): nothing else runs. */
  #done = false;
  #closeSettled = false;
  #selector: Selector<unknown> | undefined;
  #unsubscribe: (() => void) | undefined;
  #finished: Promise<void> | undefined;
  #resolveFinished: (() => void) | undefined;
  readonly #onFinish: ((session: Session) => void) | undefined;
  #idleWaiters: (() => void)[] | undefined;
  /** The runtime reported the socket closed. */
  #transportClosed = false;
  #liveness: Liveness | undefined;
  #unwatch: (() => void) | undefined;

  // Callbacks, bound once per connection when first needed: the hot path allocates no closures,
  // and an idle connection that never needed them does not carry them.
  #deliverFn: ((value: unknown) => void) | undefined;
  #failFn: ((error: unknown) => void) | undefined;
  #resumeFn: ((result: unknown) => void) | undefined;

  /**
   * `onFinish` is called once `onClose` has settled (or was skipped because `onInit` failed): a
   * registry of open sessions drops the session there, with no promise per session.
   */
  constructor(pending: PendingUpgrade, transport: Transport, onFinish?: (session: Session) => void) {
    this.#onFinish = onFinish;
    this.#options = pending.options;
    this.connection = new LiveConnection(nextConnectionId(), pending.request, pending.protocol, transport, pending.limits, this);
    const { idleTimeout } = pending.limits;
    if (idleTimeout > 0 && transport.ping) {
      const liveness = new Liveness(transport as Transport & { ping(): void }, this);
      this.#liveness = liveness;
      this.#unwatch = watchIdle(liveness, idleTimeout);
    }
  }

  /** Runs `onInit`: called once, after the adapter has registered the session. */
  start(): void {
    this.#init();
  }

  /** Settles once `onClose` has settled (or was skipped because `onInit` failed). */
  get finished(): Promise<void> {
    if (!this.#finished) {
      this.#finished = this.#closeSettled
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.#resolveFinished = resolve;
          });
    }
    return this.#finished;
  }

  get #deliver(): (value: unknown) => void {
    if (!this.#deliverFn) this.#deliverFn = (value) => this.#push({ type: "custom", value });
    return this.#deliverFn;
  }

  get #failBound(): (error: unknown) => void {
    if (!this.#failFn) this.#failFn = (error) => this.#fail(error);
    return this.#failFn;
  }

  get #resume(): (result: unknown) => void {
    if (!this.#resumeFn) this.#resumeFn = (result) => this.#afterAsync(result);
    return this.#resumeFn;
  }

  /** The last state a handler returned; undefined before `onInit` returned. */
  get state(): unknown {
    return this.#state;
  }

  /** True once `onClose` has been called (it never is when `onInit` failed). */
  get closeCalled(): boolean {
    return this.#done && this.#hasState;
  }

  /** A text frame from the client. */
  text(text: string): void {
    this.#liveness?.heard();
    if (!this.#accepting) return;
    if (textExceeds(text, this.connection.limits.maxMessageSize)) this.closeWith(1009, "Message Too Big");
    else this.#push({ type: "text", text });
  }

  /** A binary frame from the client. */
  binary(data: Uint8Array): void {
    this.#liveness?.heard();
    if (!this.#accepting) return;
    if (data.byteLength > this.connection.limits.maxMessageSize) this.closeWith(1009, "Message Too Big");
    else this.#push({ type: "binary", data });
  }

  /** A ping or pong frame from the client: it is alive. */
  heard(): void {
    this.#liveness?.heard();
  }

  /** A custom value, as if from the active selector. */
  custom(value: unknown): void {
    this.#deliver(value);
  }

  /** The socket closed, for any reason: queue the closed notice behind what is already queued. */
  closed(code: number, reason: string): void {
    this.#transportClosed = true;
    if (this.#accepting) this.#noticeClosed(code, reason);
  }

  /** Closes the socket from the server side (oversize frame, shutdown) and runs the close path now. */
  closeWith(code: number, reason: string): void {
    if (!this.#accepting) return;
    this.#closeTransport(code, reason);
    this.#noticeClosed(code, reason);
  }

  /** The client stopped reading: see `slowConsumerLimit`. */
  slowConsumer(): void {
    this.#abort(1008, "Slow consumer");
  }

  /** The client answered no ping within `idleTimeout`. */
  idle(): void {
    this.#abort(1001, "Idle timeout");
  }

  /** Closes with `code`, and drops the connection if the client has not finished closing in time. */
  #abort(code: number, reason: string): void {
    if (!this.#accepting) return;
    this.closeWith(code, reason);
    const timer = setTimeout(() => {
      if (this.#transportClosed) return;
      try {
        this.connection.transport.terminate();
      } catch {
        // Gone already.
      }
    }, CLOSE_GRACE_MS);
    unref(timer);
  }

  /** Resolves when no handler is running and nothing is queued (or the loop has finished). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      if (!this.#idleWaiters) this.#idleWaiters = [];
      this.#idleWaiters.push(resolve);
    });
  }

  #init(): void {
    let result: unknown;
    try {
      result = this.#options.onInit(this.connection, this.#options.dependencies);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (isThenable(result)) result.then((value) => this.#afterInit(value), this.#failBound);
    else this.#afterInit(result);
  }

  #afterInit(result: unknown): void {
    if (this.#done) return;
    if (!Array.isArray(result)) {
      this.#fail(new TypeError("wsloop: onInit must return [state] or [state, selector]"));
      return;
    }
    this.#state = result[0];
    this.#hasState = true;
    const selector = result[1] as Selector<unknown> | undefined;
    if (selector) this.#select(selector);
    this.#busy = false;
    this.#drain();
  }

  #noticeClosed(code: number, reason: string): void {
    this.#accepting = false;
    this.connection.open = false;
    this.#release();
    this.#queue.push({ type: "closed", code, reason });
    this.#drain();
  }

  #push(message: AnyMessage): void {
    if (!this.#accepting) return;
    if (this.#busy) {
      this.#queue.push(message);
      this.#queuedBytes += sizeOf(message);
      // A client outrunning an async handler: stop reading it rather than queue without bound.
      if (this.#queuedBytes > this.connection.limits.maxQueuedBytes) this.closeWith(1008, "Too many queued messages");
      return;
    }
    // Not busy means nothing is queued: handle the message at once, without the queue.
    this.#busy = true;
    if (this.#handle(message)) this.#run();
  }

  #drain(): void {
    if (this.#busy || this.#done) return;
    this.#busy = true;
    this.#run();
  }

  /** Handles what is queued, in order, until it is empty or a handler is pending. Called busy. */
  #run(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const message = queue[this.#head] as AnyMessage;
      queue[this.#head++] = undefined;
      this.#queuedBytes -= sizeOf(message);
      if (!this.#handle(message)) return;
    }
    queue.length = 0;
    this.#head = 0;
    this.#busy = false;
    this.#notifyIdle();
  }

  /** Runs `onMessage` for one message: true if it finished synchronously and the loop goes on. */
  #handle(message: AnyMessage): boolean {
    let result: unknown;
    try {
      result = this.#options.onMessage(this.#state, message, this.connection, this.#options.dependencies);
    } catch (error) {
      this.#fail(error);
      return false;
    }
    if (!(result instanceof ActionImpl) && isThenable(result)) {
      this.#current = message;
      const queue = this.#queue;
      if (this.#head >= COMPACT_AFTER && this.#head * 2 >= queue.length) {
        queue.splice(0, this.#head);
        this.#head = 0;
      }
      result.then(this.#resume, this.#failBound);
      return false;
    }
    this.#apply(message, result);
    return !this.#done;
  }

  #afterAsync(result: unknown): void {
    if (this.#done) return;
    const message = this.#current as AnyMessage;
    this.#current = undefined;
    this.#apply(message, result);
    if (this.#done) return;
    this.#run();
  }

  #apply(message: AnyMessage, result: unknown): void {
    // Whatever answers the closed notice is ignored: the socket is gone.
    if (message.type === "closed") this.#finish();
    else if (!(result instanceof ActionImpl)) this.#fail(notAnAction(result));
    else if (result.kind === STOP) {
      this.#closeTransport(result.code, result.reason);
      this.#finish();
    } else {
      this.#state = result.state;
      if (result.selector !== undefined && result.selector !== this.#selector) this.#select(result.selector);
    }
  }

  #select(selector: Selector<unknown>): void {
    this.#dropSelector();
    if (!this.#accepting) return;
    this.#selector = selector;
    try {
      this.#unsubscribe = selector.subscribe(this.#deliver, this.#failBound);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Stops everything that feeds the loop or the socket from outside: selector, idle watch, topics joined. */
  #release(): void {
    this.#dropSelector();
    this.#unwatch?.();
    this.#unwatch = undefined;
    // Leaving removes the membership from the array: walk a copy.
    const memberships = this.connection.memberships;
    if (memberships) for (const membership of [...memberships]) membership.leave();
  }

  #dropSelector(): void {
    const unsubscribe = this.#unsubscribe;
    this.#selector = undefined;
    this.#unsubscribe = undefined;
    if (unsubscribe) {
      try {
        unsubscribe();
      } catch (error) {
        this.#report(error);
      }
    }
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    this.#report(error);
    this.#closeTransport(1011, "Internal Error");
    this.#finish();
  }

  #closeTransport(code: number, reason: string): void {
    this.#accepting = false;
    if (!this.connection.open) return;
    this.connection.open = false;
    try {
      this.connection.transport.close(code, reason);
    } catch {
      // Already closed underneath us: the adapter reports that close on its own.
    }
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#busy = true;
    this.#accepting = false;
    this.connection.open = false;
    this.#release();
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    if (!this.#hasState) {
      this.#settle();
      return;
    }
    let result: unknown;
    try {
      result = this.#options.onClose(this.#state, this.#options.dependencies);
    } catch (error) {
      this.#report(error);
    }
    if (isThenable(result)) {
      result.then(
        () => this.#settle(),
        (error: unknown) => {
          this.#report(error);
          this.#settle();
        },
      );
    } else this.#settle();
  }

  #settle(): void {
    this.#closeSettled = true;
    this.#resolveFinished?.();
    this.#onFinish?.(this);
    this.#notifyIdle();
  }

  #report(error: unknown): void {
    const onError = this.#options.onError;
    try {
      if (onError) onError(error, this.connection);
      else console.error(`[wsloop] connection ${this.connection.id}:`, error);
    } catch (nested) {
      console.error("[wsloop] onError threw:", nested);
    }
  }

  #isIdle(): boolean {
    return this.#done ? this.#closeSettled : !this.#busy && this.#head >= this.#queue.length;
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    if (!waiters || !this.#isIdle()) return;
    this.#idleWaiters = undefined;
    for (const resolve of waiters) resolve();
  }
}

/** What a queued message weighs: its text (in UTF-16 units, near enough) or bytes; others nothing. */
function sizeOf(message: AnyMessage): number {
  return message.type === "text" ? message.text.length : message.type === "binary" ? message.data.byteLength : 0;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

function notAnAction(value: unknown): TypeError {
  return new TypeError(
    `wsloop: onMessage must return continueConnection(...), continueConnectionWithSelector(...) or stopConnection(), got ${String(value)}`,
  );
}
