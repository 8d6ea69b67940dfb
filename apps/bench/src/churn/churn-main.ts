// `pnpm bench:churn [--smoke] [--contenders rt-uws,rt-ws,...] [--duration 30000]`: connection
// churn (connect + authenticate + join + close, again and again, for 30 s) on every contender in
// one run; cycles per second, server CPU per cycle, and the leak check: heap after GC and, for
// @rt, connections, rooms, bus subscriptions, directory entries and presence back to where they
// were. Writes results/churn-<mode>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describeMachine } from '../harness/machine.js'
import type { Rig } from '../harness/measure.js'
import { benchCommand, benchDir, Child, killAll } from '../harness/proc.js'
import { CHURN_SIZES, churnContenders, runChurn, type ChurnResult } from './run-churn.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, contenders: { type: 'string' }, duration: { type: 'string' } } })
const base = CHURN_SIZES[values.smoke ? 'smoke' : 'full']
const sizes = values.duration ? { ...base, durationMs: Number(values.duration) } : base
const { log, done } = benchCommand(10)

const results: ChurnResult[] = []
const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
const rig: Rig = { clients, localAddresses: [], concurrency: sizes.concurrency }
try {
  for (const c of churnContenders(values.contenders?.split(','))) results.push(await runChurn(c, sizes, rig, log))
} finally {
  await killAll()
  done()
}

const kib = (b: number) => (b / 1024).toFixed(0)
log('')
log(`| contender | cycles in ${sizes.durationMs / 1000} s | cycles/s | server CPU per cycle | heap after GC, before → after | per cycle | state back to baseline |`)
log('|---|---:|---:|---:|---:|---:|---|')
for (const r of results) {
  const state = Object.keys(r.stateBefore).length === 0 ? '–' : r.errors.length === 0 ? 'yes' : `**no**: ${r.errors.join('; ')}`
  log(`| ${r.label} | ${r.cycles} | ${Math.round(r.cyclesPerSec)} | ${r.cpuUsPerCycle.toFixed(0)} µs | ${kib(r.heapBefore)} → ${kib(r.heapAfter)} KiB | ${((r.heapAfter - r.heapBefore) / Math.max(1, r.cycles)).toFixed(1)} B | ${state} |`)
}
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `churn-${sizes.mode}${values.duration || values.contenders ? '-custom' : ''}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:churn ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), sizes, results }, null, 2)}\n`)
log(`wrote ${file}`)
process.exit(results.some((r) => r.errors.length > 0) ? 1 : 0)
