#!/usr/bin/env bash
# Installs the system programs the test suite runs for real: nats-server (NATS clusters are
# spawned by the tests), redis-server (benchmark smoke test) and Debian's chromium (browser
# end-to-end tests), and ss (iproute2). Idempotent.
set -euo pipefail

need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
# The benchmark smoke test runs Socket.IO's Redis adapter against its own redis-server.
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
# `ss` (iproute2) reads a listening socket's backlog in the transport options test.
command -v ss >/dev/null 2>&1 || need+=(iproute2)
if [ "${RT_SKIP_BROWSER_DEPS:-}" != 1 ] && [ -f apps/demo/test/browser.test.ts ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "Please install as root: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
