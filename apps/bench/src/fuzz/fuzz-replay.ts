// Replays the scripts `pnpm bench:fuzz --dump=PATH` wrote, one at a time, against a fresh server:
//   node --import ./src/loader/register.mjs --conditions=@rt/source src/fuzz/fuzz-replay.ts PATH-ws.json [ws|uws]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { FUZZ_LIMITS, serverProblems } from '@rt/tests/fuzz/checks'
import type { Script } from '@rt/tests/fuzz/frames'
import { startFuzzServer, type TransportKind } from '@rt/tests/fuzz/server-process'
import { runSession } from '@rt/tests/fuzz/session'

const [file, kind = 'ws'] = process.argv.slice(2)
if (!file) throw new Error('usage: fuzz-replay.ts <dumped scripts .json> [ws|uws]')
const scripts = JSON.parse(readFileSync(file, 'utf8'), (_k, v: unknown) =>
  v && typeof v === 'object' && Array.isArray((v as { bytes?: unknown }).bytes) ? new Uint8Array((v as { bytes: number[] }).bytes) : v,
) as Script[]
const loader = ['--import', fileURLToPath(new URL('../loader/register.mjs', import.meta.url)), '--conditions=@rt/source']
await using srv = await startFuzzServer(kind as TransportKind, FUZZ_LIMITS, loader)
let failed = 0
for (const [i, s] of scripts.entries()) {
  const before = await srv.stats()
  const r = await runSession(srv.url, s)
  const problems = [...serverProblems(before, await srv.stats()), ...r.problems]
  if (problems.length > 0) failed++
  process.stdout.write(`#${i}: closed ${r.close ?? '-'}, ${problems.length === 0 ? 'ok' : `\n  ${problems.join('\n  ')}`}\n`)
}
process.stdout.write(`${failed} of ${scripts.length} scripts still fail\n`)
process.exitCode = failed > 0 ? 1 : 0
