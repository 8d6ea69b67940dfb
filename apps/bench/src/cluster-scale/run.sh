#!/usr/bin/env bash
# `pnpm bench:cluster-scale`: replication cost per remote connection (see cluster-scale-main.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --import ./src/loader/register.mjs --conditions=@rt/source --expose-gc --max-old-space-size=16384 src/cluster-scale/cluster-scale-main.ts "$@"
