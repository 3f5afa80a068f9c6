// OpenTelemetry, through `@opentelemetry/api` (an optional peer dependency): imported only when a
// server is given `telemetry: true`, so an app without it loads and pays nothing. Spans and metrics
// go wherever the app's OpenTelemetry SDK sends them; without an SDK the API is a no-op.
import type { LiveConnection } from "../core/connection.ts";
import type { AnyMessage, Mail } from "../core/phase.ts";
import type { ServerStats, Stats, TracedCall, Tracing } from "../core/stats.ts";

type Api = typeof import("@opentelemetry/api");
type Span = import("@opentelemetry/api").Span;
type Context = import("@opentelemetry/api").Context;

/** What a server's registry tells telemetry, besides what the loops tell it through Stats. */
export interface Telemetry extends Tracing {
  opened(connection: LiveConnection): void;
  finished(connection: LiveConnection): void;
}

/** Loads `@opentelemetry/api` and installs spans and metrics on `stats`; rejects when it is not installed. */
export async function loadTelemetry(stats: Stats, snapshot: () => ServerStats): Promise<Telemetry> {
  let api: Api;
  try {
    api = await import("@opentelemetry/api");
  } catch (error) {
    throw new Error("wsloop: telemetry: true needs @opentelemetry/api (npm install @opentelemetry/api)", { cause: error });
  }
  const telemetry = new OpenTelemetry(api);
  observe(api, snapshot, telemetry);
  stats.tracing = telemetry;
  return telemetry;
}

/** A span per connection, and one per handled message from its arrival (time queued, then in the handler). */
class OpenTelemetry implements Telemetry {
  readonly #api: Api;
  readonly #tracer;
  readonly #connections = new Map<LiveConnection, { span: Span; context: Context }>();
  /** When each message that had to wait arrived (epoch ms). */
  readonly #arrivals = new WeakMap<object, number>();
  handlerTime: ((ms: number) => void) | undefined;

  constructor(api: Api) {
    this.#api = api;
    this.#tracer = api.trace.getTracer("wsloop");
  }

  opened(connection: LiveConnection): void {
    const { trace, context, SpanKind } = this.#api;
    const span = this.#tracer.startSpan("wsloop connection", {
      kind: SpanKind.SERVER,
      attributes: {
        "wsloop.connection.id": connection.id,
        "url.path": new URL(connection.request.url).pathname,
        "websocket.protocol": connection.protocol,
      },
    });
    this.#connections.set(connection, { span, context: trace.setSpan(context.active(), span) });
  }

  closed(connection: LiveConnection, code: number): void {
    this.#connections.get(connection)?.span.setAttribute("websocket.close.code", code);
  }

  finished(connection: LiveConnection): void {
    this.#connections.get(connection)?.span.end();
    this.#connections.delete(connection);
  }

  queued(message: Mail): void {
    this.#arrivals.set(message, now());
  }

  start(connection: LiveConnection, message: AnyMessage): TracedCall {
    const { trace, context, SpanStatusCode } = this.#api;
    const parent = this.#connections.get(connection)?.context ?? context.active();
    const started = now();
    const arrived = this.#arrivals.get(message) ?? started;
    const span = this.#tracer.startSpan(
      "wsloop message",
      { startTime: arrived, attributes: { "wsloop.message.type": message.type, "wsloop.queued_ms": started - arrived } },
      parent,
    );
    const inside = trace.setSpan(parent, span);
    const record = this.handlerTime;
    return {
      run: (handler) => context.with(inside, handler),
      end(ms, failed, error) {
        record?.(ms);
        span.setAttribute("wsloop.handler_ms", ms);
        if (failed) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  }
}

/** Epoch milliseconds with performance.now's precision. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Metrics matching stats(), read from one snapshot per collection; handler time as a histogram. */
function observe(api: Api, snapshot: () => ServerStats, telemetry: OpenTelemetry): void {
  const meter = api.metrics.getMeter("wsloop");
  const handlerTime = meter.createHistogram("wsloop.handler.duration", {
    unit: "ms",
    description: "onMessage time (an async handler's until it settles)",
  });
  telemetry.handlerTime = (ms) => handlerTime.record(ms);
  const gauge = (name: string, description: string, unit = "{connection}") =>
    meter.createObservableUpDownCounter(name, { description, unit });
  const counter = (name: string, description: string, unit = "{message}") =>
    meter.createObservableCounter(name, { description, unit });
  const connections = gauge("wsloop.connections", "Connections whose loop is running");
  const paused = gauge("wsloop.connections.paused", "Connections whose socket is not being read (flow control)");
  const queued = gauge("wsloop.queue.bytes", "Bytes waiting for handlers", "By");
  const received = counter("wsloop.messages.received", "Frames from clients");
  const receivedBytes = counter("wsloop.messages.received.bytes", "Their bytes (text in UTF-16 units)", "By");
  const sent = counter("wsloop.messages.sent", "Frames sent");
  const sentBytes = counter("wsloop.messages.sent.bytes", "Their bytes (text in UTF-16 units)", "By");
  const upgrades = counter("wsloop.upgrades", "Upgrade requests, by outcome and HTTP status", "{request}");
  const closes = counter("wsloop.closes", "Closes by code", "{connection}");
  const events = counter(
    "wsloop.events",
    "Pauses, backpressure, slow consumers, queue overflows, rate-limited frames",
    "{event}",
  );
  meter.addBatchObservableCallback(
    (result) => {
      const stats = snapshot();
      result.observe(connections, stats.connections);
      result.observe(paused, stats.pausedConnections);
      result.observe(queued, stats.queuedBytes);
      result.observe(received, stats.messagesIn);
      result.observe(receivedBytes, stats.bytesIn);
      result.observe(sent, stats.messagesOut);
      result.observe(sentBytes, stats.bytesOut);
      result.observe(upgrades, stats.upgrades.accepted, { outcome: "accepted", "http.response.status_code": 101 });
      for (const [status, count] of Object.entries(stats.upgrades.refused))
        result.observe(upgrades, count, { outcome: "refused", "http.response.status_code": Number(status) });
      for (const [code, count] of Object.entries(stats.closes))
        result.observe(closes, count, { "websocket.close.code": Number(code) });
      result.observe(events, stats.pauses, { event: "pause" });
      result.observe(events, stats.backpressure, { event: "backpressure" });
      result.observe(events, stats.slowConsumers, { event: "slow_consumer" });
      result.observe(events, stats.queueOverflows, { event: "queue_overflow" });
      result.observe(events, stats.rateLimited, { event: "rate_limited" });
    },
    [connections, paused, queued, received, receivedBytes, sent, sentBytes, upgrades, closes, events],
  );
}
