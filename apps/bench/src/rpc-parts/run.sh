#!/usr/bin/env bash
# `pnpm bench:rpc-parts`: server CPU per call taken apart (see rpc-parts-main.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --import ./src/loader/register.mjs --conditions=@rt/source src/rpc-parts/rpc-parts-main.ts "$@"
