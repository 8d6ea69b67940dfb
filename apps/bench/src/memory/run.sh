#!/usr/bin/env bash
# `pnpm bench:memory`: idle memory per connection and where @rt's bytes go (see memory-main.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
exec node --import ./src/loader/register.mjs --conditions=@rt/source --max-old-space-size=8192 src/memory/memory-main.ts "$@"
