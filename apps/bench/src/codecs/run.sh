#!/usr/bin/env bash
# `pnpm bench:codecs`: JSON against MessagePack, both transports (see codecs-main.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --import ./src/loader/register.mjs --conditions=@rt/source src/codecs/codecs-main.ts "$@"
