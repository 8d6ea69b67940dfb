#!/usr/bin/env bash
# `pnpm bench:parts`: server CPU per call and per connection taken apart (see parts-main.ts). Descriptors raised as in scripts/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
exec node --import ./src/loader/register.mjs --conditions=@rt/source src/parts/parts-main.ts "$@"
