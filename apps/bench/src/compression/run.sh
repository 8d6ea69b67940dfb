#!/usr/bin/env bash
# `pnpm bench:compression`: permessage-deflate off and on, both transports (see compression-main.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --import ./src/loader/register.mjs --conditions=@rt/source src/compression/compression-main.ts "$@"
