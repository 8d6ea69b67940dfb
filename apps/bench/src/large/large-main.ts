// `pnpm bench:large [--smoke] [--contenders rt-uws,rt-ws,...]`: 19 000 concurrent connections
// on one node, all in one room (the fd ceiling of a process here is 20 000; the load clients run
// in 4 processes of their own): fan-out CPU per delivery at 19 000 against 1 000, connection setup
// rate and server CPU per connection, memory per connection at that size. Every contender in one
// run; writes results/large-<mode>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CONTENDERS } from '../harness/contenders.js'
import { describeMachine } from '../harness/machine.js'
import type { Rig } from '../harness/measure.js'
import { benchCommand, benchDir, Child, killAll } from '../harness/proc.js'
import { LARGE_SIZES, runLarge, type LargeResult } from './run-large.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, contenders: { type: 'string' } } })
const sizes = LARGE_SIZES[values.smoke ? 'smoke' : 'full']
const picked = CONTENDERS.filter((c) => !values.contenders || values.contenders.split(',').includes(c.id))
const { log, done } = benchCommand(15)

const results: LargeResult[] = []
const clients = await Promise.all(Array.from({ length: sizes.clientProcs }, (_, i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
const rig: Rig = { clients, localAddresses: [], concurrency: 128 }
try {
  for (const c of picked) results.push(await runLarge(c, sizes, rig, log))
} finally {
  await killAll()
  done()
}

const f = (x: number | undefined, d = 0) => (x === undefined ? '–' : x.toFixed(d))
log('')
log(`| contender | CPU per delivery at ${sizes.smallN} | at ${sizes.largeN} | ratio | setup/s | server CPU per connection | RSS / heap per connection at ${sizes.largeN} |`)
log('|---|---:|---:|---:|---:|---:|---:|')
for (const r of results) {
  const ratio = r.small && r.large ? (r.large.cpuUsPerDelivery / r.small.cpuUsPerDelivery).toFixed(2) : '–'
  log(`| ${r.label}${r.errors.length ? ` ⚠ ${r.errors.join('; ')}` : ''} | ${f(r.small?.cpuUsPerDelivery, 3)} µs | ${f(r.large?.cpuUsPerDelivery, 3)} µs | ${ratio}× | ${f(r.connect?.perSec)} | ${f(r.connect?.cpuUsPerConn)} µs | ${f(r.rssPerConn && r.rssPerConn / 1024, 2)} / ${f(r.heapPerConn && r.heapPerConn / 1024, 2)} KiB |`)
}
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `large-${sizes.mode}${picked.length < CONTENDERS.length ? '-partial' : ''}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:large ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), sizes, results }, null, 2)}\n`)
log(`wrote ${file}`)
process.exit(results.some((r) => r.errors.length > 0) ? 1 : 0)
