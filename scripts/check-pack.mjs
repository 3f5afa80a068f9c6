// What `npm pack` would publish: dist, README.md, LICENSE and package.json, nothing else.
import { execFileSync } from "node:child_process";

const [pack] = JSON.parse(
  execFileSync("npm", ["pack", "--dry-run", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
);
const allowed = (path) => path.startsWith("dist/") || ["README.md", "LICENSE", "package.json"].includes(path);
const files = pack.files.map((file) => file.path);
const stray = files.filter((path) => !allowed(path));
const missing = ["README.md", "LICENSE", "package.json", "dist/index.js", "dist/index.d.ts"].filter(
  (path) => !files.includes(path),
);
if (stray.length > 0 || missing.length > 0) {
  console.error(`npm pack: unexpected ${JSON.stringify(stray)}, missing ${JSON.stringify(missing)}`);
  process.exit(1);
}
console.log(`npm pack: ${files.length} files, all of them dist, README.md, LICENSE or package.json`);
