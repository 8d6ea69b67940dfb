// `pnpm bench:parts [--smoke] [--rounds 5]`: server CPU per call and per connection taken apart,
// in one run. Per call: raw uWS echoing the call's bytes (the RPC baseline of `pnpm bench`), the
// same echo written at the end of the event-loop turn as @rt writes, raw uWS decoding the call's
// JSON and encoding an answer (the least any RPC server does), and @rt + uWS; 20 clients calling
// back to back. Per connection (2 000 of them, each joining a room and its user's room): raw uWS
// taking its token on the upgrade (the setup baseline of `pnpm bench`), raw uWS reading a hello
// frame and writing a welcome (@rt's handshake at its least), and @rt + uWS; measured right after
// start (200 connections in) and again warm (after 3 more rounds of 2 000). Each part on a fresh
// server, interleaved round by round, medians. Writes results/parts-<mode>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describeMachine } from '../harness/machine.js'
import type { Rig } from '../harness/measure.js'
import { median } from '../harness/median.js'
import { benchCommand, benchDir, Child, killAll } from '../harness/proc.js'
import { PARTS_SIZES, runParts, type PartResult, type PartsResults } from './run-parts.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, rounds: { type: 'string' } } })
const base = PARTS_SIZES[values.smoke ? 'smoke' : 'full']
const sizes = values.rounds ? { ...base, rounds: Number(values.rounds) } : base
const { log, done } = benchCommand(10)

let results: PartsResults = { rpc: [], setup: [] }
const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
const rig: Rig = { clients, localAddresses: [], concurrency: 32 }
try {
  results = await runParts(sizes, rig, log)
} finally {
  await killAll()
  done()
}

const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '–')
/**
 * One table: each part's median CPU, the spread of its runs, its median rate, its ratio to the
 * first part and to the floor, and (setup) the median of the runs right after start.
 */
function table<R>(title: string, unit: string, rows: PartResult<R>[], cpu: (run: R) => number, rate: (run: R) => number, rateUnit: string, first: string, floor: string) {
  const by = (id: string) => rows.find((r) => r.id === id)?.cpuUs
  const cold = rows.some((r) => r.firstCpuUs !== undefined)
  log('')
  log(title)
  log('')
  log(`| server | CPU per ${unit} (median of ${sizes.rounds}) | spread | ${rateUnit} | vs ${first} | vs ${floor} |${cold ? ' right after start |' : ''}`)
  log(`|---|---:|---:|---:|---:|---:|${cold ? '---:|' : ''}`)
  for (const r of rows) {
    const xs = r.runs.map(cpu)
    const right = cold ? ` ${r.firstCpuUs?.toFixed(2) ?? '–'} µs |` : ''
    log(`| ${r.label} | ${r.cpuUs.toFixed(2)} µs | ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)} | ${Math.round(median(r.runs.map(rate)))} | ${ratio(r.cpuUs, by(first))} | ${ratio(r.cpuUs, by(floor))} |${right}`)
  }
}
table('Per call', 'call', results.rpc, (x) => x.cpuUsPerCall, (x) => x.callsPerSec, 'calls/s', 'raw-echo', 'raw-json')
table(`Per connection, warm (after ${sizes.warmRounds} rounds of ${sizes.connections} opened and closed)`, 'connection', results.setup, (x) => x.cpuUsPerConn, (x) => x.perSec, 'connections/s', 'raw-upgrade', 'raw-hello')
// How much of it V8's compiler and GC helpers took, off the main thread.
const helpers = (runs: { helperUsPerConn?: number }[] | undefined) => {
  const xs = (runs ?? []).flatMap((r) => (r.helperUsPerConn === undefined ? [] : [r.helperUsPerConn]))
  return xs.length > 0 ? `${median(xs).toFixed(0)} µs` : '–'
}
log('')
log('| per connection, off the main thread | warm | right after start |')
log('|---|---:|---:|')
for (const r of results.setup) log(`| ${r.label} | ${helpers(r.runs)} | ${helpers(r.firstRuns)} |`)
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `parts-${sizes.mode}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:parts ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), sizes, results }, null, 2)}\n`)
log(`wrote ${file}`)
const failed = [...results.rpc, ...results.setup].filter((r) => r.errors.length > 0)
for (const r of failed) log(`INCOMPLETE ${r.id}: ${r.errors.join('; ')}`)
process.exit(failed.length > 0 ? 1 : 0)
