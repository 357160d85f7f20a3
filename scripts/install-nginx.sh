#!/usr/bin/env bash
# Installs Debian's nginx (nginx-light) for the cache-poisoning test
# (crates/corsair-gateway/tests/cache_poisoning.rs) when it is missing.
# Idempotent; needs root (as on the project's machines and in CI).
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then
    /usr/sbin/nginx -v 2>&1
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq nginx-light >/dev/null
/usr/sbin/nginx -v 2>&1
