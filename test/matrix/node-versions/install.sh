#!/usr/bin/env bash
# Installs the Node binaries of package.json beside this file (npm ci, ~30 s of download), unless
# the installed ones already have the pinned versions.
set -euo pipefail
cd "$(dirname "$0")"
for alias in node22 node24 node26; do
  want=$(node -p "require('./package.json').devDependencies['$alias'].split('@').pop()")
  have=$("node_modules/$alias/bin/node" --version 2>/dev/null || true)
  if [ "$have" != "v$want" ]; then
    exec npm ci --no-audit --no-fund --loglevel=error
  fi
done
