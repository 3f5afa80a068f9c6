#!/usr/bin/env bash
# Every static check of the project, as `.ci/run` runs them: types on each runtime, lint and
# format, the package as npm and JSR would publish it, and the API docs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin
step() { printf '\n== %s\n' "$*"; }

step "types: tsc with Node's types, and with Bun's for the Bun side"
"$bin/tsc" -p tsconfig.json
"$bin/tsc" -p tsconfig.bun.json
step "types: deno check of the sources and the Deno examples"
"$bin/deno" check src/ examples/deno/ examples/recipes/deno-deploy.ts
step "bun build of the Bun example"
"$bin/bun" build examples/bun/server.ts --target=bun --outdir "$(mktemp -d)" >/dev/null
step "lint and format: biome"
"$bin/biome" ci .
step "package: build, publint, are-the-types-wrong, npm pack contents"
npm run build >/dev/null
# dist/ is built: packing skips the "prepare" script, which would build it again (into stdout).
npm_config_ignore_scripts=true "$bin/publint" --strict
npm_config_ignore_scripts=true "$bin/attw" --pack . --profile esm-only
npm_config_ignore_scripts=true node scripts/check-pack.mjs
step "wsloop/client: one file, within its size budget (min+gzip)"
node scripts/check-client-size.mjs
step "JSR: deno publish --dry-run (no slow types)"
"$bin/deno" publish --dry-run --allow-dirty
step "API docs: every export documented with an example, and the reference builds"
node scripts/check-docs.mjs
npm run docs >/dev/null
