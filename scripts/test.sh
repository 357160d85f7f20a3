#!/usr/bin/env bash
# The whole test suite: what the README's second command and .ci/run run.
#   1. cargo test --workspace: unit, doc, property and loopback integration
#      tests (the cache-poisoning test needs Debian's nginx: installed here
#      when missing)
#   2. e2e/run.sh: headless Chromium against corsair serve and the tower layer
#      (installs Debian's chromium and openssl when missing)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> nginx for the cache-poisoning test"
bash scripts/install-nginx.sh
export CORSAIR_REQUIRE_NGINX=1

echo "==> cargo test --workspace"
cargo test --workspace

echo "==> browser suite (e2e/run.sh)"
E2E_REQUIRE_ALL=1 bash e2e/run.sh
