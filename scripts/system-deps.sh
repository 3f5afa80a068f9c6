#!/usr/bin/env bash
# The Debian packages the Redis and browser tests need (redis-server, chromium): installs the
# missing ones with apt-get, so `npm run test:all` works on a fresh machine.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Install ${missing[*]} to run the Redis and browser tests (set CHROMIUM_PATH for another Chromium)." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
