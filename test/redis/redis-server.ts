// A real redis-server for the tests: REDIS_URL (default redis://127.0.0.1:6379) when it answers,
// otherwise one started here on a free port. Without either the tests fail; they are never skipped.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";

export interface RedisInstance {
  readonly url: string;
  /** Kills the server (SIGKILL) and starts it again on the same port: empty, or with what a persistent one had acknowledged (only for servers started here). */
  restart(): Promise<void>;
  /** Kills the server (SIGKILL) and keeps its data for `restart` (only for servers started here). */
  down(): Promise<void>;
  stop(): Promise<void>;
}

/** True if a Redis server answers PING at `url`. */
export function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/** The Redis of REDIS_URL if it answers, else a fresh one started here. */
export async function sharedRedis(): Promise<RedisInstance> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (await answers(url)) {
    return {
      url,
      restart: () => Promise.reject(new Error("cannot restart a Redis this test did not start")),
      down: () => Promise.reject(new Error("cannot stop a Redis this test did not start")),
      stop: async () => {},
    };
  }
  return startRedis();
}

/**
 * Starts redis-server on a free port, without persistence; with `persistent`, with an append-only
 * file fsynced before each reply (what it acknowledged survives a kill -9), in a temporary directory.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<RedisInstance> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = options.persistent ? await mkdtemp(join(tmpdir(), "wsloop-redis-")) : undefined;
  const args = dir ? ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  let child = await launch(port, url, args);
  return {
    url,
    async restart() {
      await kill(child);
      child = await launch(port, url, args);
    },
    down: () => kill(child),
    async stop() {
      await kill(child);
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launch(port: number, url: string, extra: string[]): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...extra], {
    stdio: "ignore",
  });
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error) =>
      reject(
        new Error(
          `no Redis answers at ${process.env.REDIS_URL ?? "redis://127.0.0.1:6379"} and redis-server could not start (${error.message}); install it: apt-get install -y redis-server`,
        ),
      ),
    );
  });
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([answers(url), failed]))) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A plain node-redis client. */
type Probe = ReturnType<typeof createClient>;

/**
 * For a describe block: the shared Redis and a plain node-redis client on it ("the probe": what a
 * worker or redis-cli would do), made before its tests and released after them.
 */
export function withSharedRedis(): { readonly redis: RedisInstance; readonly probe: Probe } {
  const shared = {} as { redis: RedisInstance; probe: Probe };
  beforeAll(async () => {
    shared.redis = await sharedRedis();
    shared.probe = createClient({ url: shared.redis.url });
    await shared.probe.connect();
  });
  afterAll(async () => {
    await shared.probe?.close();
    await shared.redis?.stop();
  });
  return shared;
}
