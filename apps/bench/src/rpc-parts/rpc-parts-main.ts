// `pnpm bench:rpc-parts [--smoke] [--rounds 5]`: server CPU per call taken apart, in one run. Raw
// uWS echoing the call's bytes (the RPC baseline of `pnpm bench`), the same echo written at the
// end of the event-loop turn as @rt writes, raw uWS decoding the call's JSON and encoding an
// answer (the least any RPC server does), and @rt + uWS; 20 clients calling back to back, each
// part on a fresh server, interleaved round by round, medians. Writes results/rpc-parts-<mode>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describeMachine } from '../harness/machine.js'
import type { Rig } from '../harness/measure.js'
import { benchDir, Child, killAll } from '../harness/proc.js'
import { RPC_PARTS_SIZES, runRpcParts, type RpcPartResult } from './run-rpc-parts.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, rounds: { type: 'string' } } })
const base = RPC_PARTS_SIZES[values.smoke ? 'smoke' : 'full']
const sizes = values.rounds ? { ...base, rounds: Number(values.rounds) } : base
const log = (s: string) => process.stdout.write(`${s}\n`)
process.once('SIGINT', () => void killAll().finally(() => process.exit(130)))
const deadline = setTimeout(() => {
  log('deadline reached: stopping every process')
  void killAll().then(() => process.exit(1))
}, 10 * 60_000)

let results: RpcPartResult[] = []
const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
const rig: Rig = { clients, localAddresses: [], concurrency: 32 }
try {
  results = await runRpcParts(sizes, rig, log)
} finally {
  await killAll()
  clearTimeout(deadline)
}

const by = (id: string) => results.find((r) => r.id === id)!
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
log('')
log(`| server | CPU per call (median of ${sizes.rounds}) | spread | calls/s | vs raw echo | vs raw JSON |`)
log('|---|---:|---:|---:|---:|---:|')
for (const r of results) {
  const cpu = r.runs.map((x) => x.cpuUsPerCall)
  log(`| ${r.label} | ${r.cpuUsPerCall.toFixed(2)} µs | ${Math.min(...cpu).toFixed(2)}–${Math.max(...cpu).toFixed(2)} | ${Math.round(r.callsPerSec)} | ${ratio(r.cpuUsPerCall, by('raw-echo').cpuUsPerCall)} | ${ratio(r.cpuUsPerCall, by('raw-json').cpuUsPerCall)} |`)
}
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `rpc-parts-${sizes.mode}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:rpc-parts ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), sizes, results }, null, 2)}\n`)
log(`wrote ${file}`)
const failed = results.filter((r) => r.errors.length > 0)
for (const r of failed) log(`INCOMPLETE ${r.id}: ${r.errors.join('; ')}`)
process.exit(failed.length > 0 ? 1 : 0)
