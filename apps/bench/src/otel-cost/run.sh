#!/usr/bin/env bash
# `pnpm bench:otel-cost`: instrumentation cost per call and per delivery (see otel-cost-main.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
exec node --import ./src/loader/register.mjs --conditions=@rt/source src/otel-cost/otel-cost-main.ts "$@"
