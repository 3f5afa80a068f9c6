// The Worker the Cloudflare tests run on workerd: hibernating loops in a Durable Object (/do/...),
// and loops served by the Worker itself (/worker/...).

import { createWorkerHandler, DurableLoops, type DurableObjectContext, hibernate } from "../../src/cloudflare.ts";
import {
  type Action,
  type Connection,
  continueConnection,
  createSubject,
  type Message,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";

interface Storage {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
}
type Context = DurableObjectContext & { storage: Storage };

interface State {
  count: number;
  /** Grows on "grow:N": a state too large for the attachment. */
  padding: string;
}

interface Deps {
  storage: Storage;
  tag: string;
  user: string;
}

/** Module state: kept while the isolate lives, across the object's evictions. */
let constructed = 0;
const news = createSubject<string>();

/** What the tests read: kept in the object's storage, so it survives hibernation. */
interface Record {
  inits: number;
  closes: number;
  closeStates: number[];
  closedNotices: number[];
}

async function update(storage: Storage, tag: string, change: (record: Record) => void): Promise<void> {
  const record = (await storage.get<Record>(tag)) ?? { inits: 0, closes: 0, closeStates: [], closedNotices: [] };
  change(record);
  await storage.put(tag, record);
}

async function onInit(_connection: Connection, deps: Deps): Promise<[State]> {
  await update(deps.storage, deps.tag, (record) => record.inits++);
  return [{ count: 0, padding: "" }];
}

function onMessage(
  state: State,
  message: Message<string>,
  connection: Connection,
  deps: Deps,
): Action<State, string> | Promise<Action<State, string>> {
  switch (message.type) {
    case "closed":
      // Written before onClose runs (its own write reads this one).
      return update(deps.storage, deps.tag, (record) => record.closedNotices.push(message.code)).then(() => stopConnection());
    case "custom":
      sendText(connection, `custom:${message.value}`);
      return continueConnection(state);
    case "binary":
      return continueConnection(state);
    case "text": {
      const [verb, arg] = message.text.split(":");
      if (verb === "state") {
        sendText(connection, `state:${state.count}:instance:${constructed}:user:${deps.user}`);
        return continueConnection(state);
      }
      if (verb === "grow") return continueConnection({ ...state, padding: "x".repeat(Number(arg)) });
      sendText(connection, message.text);
      return continueConnection({ ...state, count: state.count + 1 });
    }
  }
}

async function onClose(state: State, deps: Deps): Promise<void> {
  await update(deps.storage, deps.tag, (record) => {
    record.closes++;
    record.closeStates.push(state.count);
  });
}

function durableApp(storage: Storage) {
  return (request: Request): Response => {
    const url = new URL(request.url);
    const tag = url.searchParams.get("tag") ?? "default";
    const dependencies: Deps = { storage, tag, user: request.headers.get("x-user") ?? "" };
    const handlers = { dependencies, onInit, onMessage, onClose, onError: () => {} };
    switch (url.pathname) {
      case "/do/hibernating":
        return upgradeWebSocket(
          request,
          hibernate(handlers, {
            serialize: (state) => state,
            deserialize: (data) => data as State,
            selector: () => news.selector,
            headers: ["x-user"],
          }),
        );
      case "/do/awake":
        return upgradeWebSocket(request, {
          ...handlers,
          onInit: async (connection, deps) => [...(await onInit(connection, deps)), news.selector],
        });
      case "/do/publish":
        news.send(url.searchParams.get("text") ?? "");
        return new Response("published");
      case "/do/constructed":
        return Response.json(constructed);
      default:
        return new Response("Not Found", { status: 404 });
    }
  };
}

export class Loops extends DurableLoops {
  readonly #storage: Storage;

  constructor(ctx: Context) {
    super(ctx, durableApp(ctx.storage), { autoResponse: { request: "ping", response: "pong" } });
    constructed++;
    this.#storage = ctx.storage;
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/do/stats") return Response.json((await this.#storage.get(url.searchParams.get("tag") ?? "")) ?? null);
    return super.fetch(request);
  }
}

// Loops served by the Worker: each runs in the request that opened it.
const workerStats = new Map<string, { closes: number; closedNotices: number[] }>();

function workerApp(request: Request): Response {
  const url = new URL(request.url);
  const tag = url.searchParams.get("tag") ?? "default";
  if (url.pathname === "/worker/stats") return Response.json(workerStats.get(tag) ?? null);
  if (url.pathname !== "/worker/echo") return new Response("Not Found", { status: 404 });
  const stats = { closes: 0, closedNotices: [] as number[] };
  workerStats.set(tag, stats);
  return upgradeWebSocket(request, {
    dependencies: stats,
    maxMessageSize: 1024,
    onInit: () => [0],
    onMessage: (state: number, message: Message<never>, connection) => {
      if (message.type === "closed") {
        stats.closedNotices.push(message.code);
        return stopConnection();
      }
      if (message.type === "text" && message.text.startsWith("stop:"))
        return stopConnection({ code: Number(message.text.slice(5)) });
      if (message.type === "text") sendText(connection, message.text);
      return continueConnection(state + 1);
    },
    onClose: () => {
      stats.closes++;
    },
  });
}

const worker = createWorkerHandler(workerApp);

interface Env {
  LOOPS: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

export default {
  fetch(request: Request, env: Env, ctx: unknown): Promise<Response> {
    if (new URL(request.url).pathname.startsWith("/do/")) return env.LOOPS.get(env.LOOPS.idFromName("loops")).fetch(request);
    return worker(request, env, ctx);
  },
};
