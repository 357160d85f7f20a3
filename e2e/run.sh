#!/usr/bin/env bash
# corsair end-to-end suite: real Chromium judges every CORS verdict.
#
#   bash e2e/run.sh
#
# Installs what is missing (Debian's chromium and openssl, with apt-get; the
# npm packages with `npm ci`), builds the `corsair` binary and the `e2e_app`
# example with cargo, then runs e2e/run.mjs. Node.js and npm must be on the
# machine. Exit status: 0 when Chromium, the policies' intent and
# `corsair check` agree on every cell, and `corsair explain` reads Chromium's
# console message of every blocked cell as Chromium and the gateway do; 1
# otherwise.
#
# Environment: CHROMIUM (default /usr/bin/chromium), CARGO_TARGET_DIR,
# E2E_CSRF_TARGETS (`gateway,tower`, the default: whose cross-origin
# protection the CSRF part checks),
# E2E_REQUIRE_ALL=1 (a part skipped because a subcommand is missing fails),
# E2E_KEEP=1 (keep the work directory with configs and server logs).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  echo "e2e: installing $* with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y)
  if ! as_root "${apt[@]}" install "$@"; then
    as_root "${apt[@]}" update
    as_root "${apt[@]}" install "$@"
  fi
}

missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi
[ -x "$CHROMIUM" ] || { echo "e2e: no Chromium at $CHROMIUM after installing it" >&2; exit 1; }

for tool in node npm cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "e2e: $tool is required (not found on PATH)" >&2; exit 1; }
done

echo "e2e: $("$CHROMIUM" --version 2>/dev/null || echo chromium), node $(node --version)" >&2
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)

(cd "$ROOT" && cargo build --quiet -p corsair-cli --bin corsair && cargo build --quiet -p corsair-tower --example e2e_app)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CORSAIR_BIN="$TARGET_DIR/debug/corsair"
export E2E_APP_BIN="$TARGET_DIR/debug/examples/e2e_app"

exec node "$HERE/run.mjs"
