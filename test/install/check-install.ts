// The install path README gives, end to end: pack this package (its `prepare` script builds
// dist/), install the tarball into a fresh project outside the repository (crossws comes from
// the registry or npm's cache), type-check README's echo chat (app.ts and server.ts) against the
// installed types, then run it on Node, Bun and Deno and check one echo round trip on each.
// Run by `npm run test:install` (and .ci/run).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { extractBlocks } from "../docs/blocks.ts";

type Runtime = "node" | "bun" | "deno";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = (name: string) => join(root, "node_modules/.bin", name);
const step = (text: string) => console.log(`== install: ${text}`);

const project = mkdtempSync(join(tmpdir(), "wsloop-install-"));
const children: ChildProcess[] = [];
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(project, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
}

step(`npm pack (builds dist/ through "prepare") into ${project}`);
// (The output of "prepare" goes to stdout, so the tarball is found in the directory, not in --json.)
execFileSync("npm", ["pack", "--pack-destination", project], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const filename = readdirSync(project).find((file) => file.endsWith(".tgz"));
if (!filename) throw new Error(`npm pack left no tarball in ${project}`);
const tarball = join(project, filename);

step(`npm install ./${filename} in a fresh project`);
// As README says: an ES module project (server.ts uses top-level await), then the tarball.
run("npm", ["init", "-y"], project);
run("npm", ["pkg", "set", "type=module"], project);
run("npm", ["install", "--no-audit", "--no-fund", tarball], project);

// README's echo chat, as a reader copies it: app.ts, and server.ts with the adapter of each runtime.
const blocks = extractBlocks(readFileSync(join(root, "README.md"), "utf8"));
const block = (file: string) => {
  const found = blocks.find((candidate) => candidate.file === file);
  if (!found) throw new Error(`README.md has no ${file} block`);
  return `${found.code}\n`;
};
writeFileSync(join(project, "app.ts"), block("app.ts"));
const server = block("server.ts");
if (!server.includes('from "wsloop/node"') || !server.includes("port: 3000")) {
  throw new Error(`README's server.ts no longer imports "wsloop/node" with port 3000:\n${server}`);
}
for (const runtime of ["node", "bun", "deno"] as const) {
  // Loopback and a free port, so this can run next to other servers.
  const source = server
    .replace('from "wsloop/node"', `from "wsloop/${runtime}"`)
    .replace("port: 3000", 'port: 0, hostname: "127.0.0.1"');
  writeFileSync(join(project, `server-${runtime}.ts`), source);
}

step("tsc: the chat type-checks against the installed package (Node's types; Bun's for server-bun.ts)");
const tsconfig = (types: string, files: string[]) => ({
  compilerOptions: {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "Bundler",
    lib: ["ES2022", "DOM"],
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    // The repository's @types/node and @types/bun, which a reader installs with `npm install -D`.
    typeRoots: [join(root, "node_modules/@types")],
    types: [types],
  },
  files,
});
writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig("node", ["app.ts", "server-node.ts"])));
writeFileSync(join(project, "tsconfig.bun.json"), JSON.stringify(tsconfig("bun", ["app.ts", "server-bun.ts"])));
run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], project);
run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.bun.json"], project);

const commands: Record<Runtime, [string, string[]]> = {
  node: [process.execPath, ["--import", import.meta.resolve("tsx"), "server-node.ts"]],
  bun: [bin("bun"), ["server-bun.ts"]],
  // No deno.json: Deno resolves "wsloop/deno" through the project's package.json and node_modules.
  deno: [bin("deno"), ["run", "-A", "server-deno.ts"]],
};

async function echoOn(runtime: Runtime): Promise<void> {
  const [command, args] = commands[runtime];
  const child = spawn(command, args, { cwd: project, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  children.push(child);
  let output = "";
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${runtime}: no "Echo chat on" within 30 s:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Echo chat on http(:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(`ws${match[1]}`);
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("exit", (code) => reject(new Error(`${runtime}: exited with ${code}:\n${output}`)));
    });
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => reject(new Error(`${runtime}: no echo within 10 s`)), 10_000);
      socket.on("open", () => socket.send("hi"));
      socket.on("message", (data) => {
        clearTimeout(timer);
        socket.close(1000);
        resolve(String(data));
      });
      socket.on("error", reject);
    });
    if (reply !== "Ann: hi") throw new Error(`${runtime}: expected "Ann: hi", got ${JSON.stringify(reply)}`);
    step(`${runtime}: ${url} echoed "${reply}"`);
  } finally {
    child.kill("SIGTERM");
  }
}

for (const runtime of ["node", "bun", "deno"] as const) await echoOn(runtime);
step("ok");
