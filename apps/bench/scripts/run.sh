#!/usr/bin/env bash
# Runs the benchmark harness. 10 000 connections need ~10 000 descriptors in the server
# process (and as many spread over the client processes): raise the limit to the hard one.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
exec node --import ./src/loader/register.mjs --conditions=@rt/source src/main.ts "$@"
