// `pnpm bench:otel-cost [--rounds 4] [--kind rt-uws] [--base <checkout>]`: what instrumentation
// costs the server per call and per delivery. Configurations, interleaved round by round so
// that a busy machine hits them alike: `base` (another checkout's server, e.g. the commit before
// instrumentation, when --base is given), `none` (this checkout, no SDK registered), `metrics`
// (MeterProvider + Prometheus exporter), `sampled` (metrics + traces, 1 % of root traces sampled),
// `sdk` (metrics + traces, every span sampled into a batch processor). Server CPU per delivery (a
// room of 1 000, 10 ticks a turn), then per call (20 clients calling back to back): deliveries
// first, so that the spans of the calls are not exported and collected while deliveries are
// measured. Medians over the rounds; writes results/otel-cost-<kind>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { describeMachine } from '../harness/machine.js'
import { closeAll, connect, fanout, rpc, type Rig } from '../harness/measure.js'
import { benchDir, Child, killAll } from '../harness/proc.js'
import { median } from '../harness/median.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, kind: { type: 'string', default: 'rt-uws' }, base: { type: 'string' }, smoke: { type: 'boolean', default: false } } })
const rounds = Number(values.smoke ? 1 : values.rounds)
const n = values.smoke ? 50 : 1_000
const messages = values.smoke ? 20 : 200
const rpcMs = values.smoke ? 300 : 3_000
const log = (s: string) => process.stdout.write(`${s}\n`)
process.once('SIGINT', () => void killAll().finally(() => process.exit(130)))

interface Config {
  name: string
  script: string
  env: Record<string, string>
}
const own = '../server/server-main.ts'
const configs: Config[] = [
  ...(values.base ? [{ name: 'base', script: pathToFileURL(resolve(values.base, 'apps/bench/src/server/server-main.ts')).href, env: {} }] : []),
  { name: 'none', script: own, env: {} },
  { name: 'metrics', script: own, env: { RT_BENCH_OTEL: 'metrics' } },
  { name: 'sampled', script: own, env: { RT_BENCH_OTEL: 'sampled' } },
  { name: 'sdk', script: own, env: { RT_BENCH_OTEL: 'sdk' } },
]
type Sample = { call: number; delivery: number }
const samples = new Map<string, Sample[]>(configs.map((c) => [c.name, []]))

const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
const rig: Rig = { clients, localAddresses: [], concurrency: 128 }
try {
  for (let r = 1; r <= rounds; r++) {
    for (const c of configs) {
      const srv = await Child.fork<{ port: number }>(`server ${c.name}`, c.script, { kind: values.kind }, { env: { NODE_ENV: 'production', ...c.env } })
      try {
        const bases = [`ws://127.0.0.1:${srv.info.port}`]
        await connect(rig, srv, bases, 'rt', n)
        // Each path warmed, then measured: deliveries before calls (see above).
        await fanout(rig, [srv], srv, n, { messages: 50, burst: 10, intervalMs: 0 }, 60_000)
        const f = await fanout(rig, [srv], srv, n, { messages, burst: 10, intervalMs: 0 }, 60_000)
        await rpc(rig, srv, 20, { warmupMs: 500, durationMs: 0, timeoutMs: 10_000 })
        const p = await rpc(rig, srv, 20, { warmupMs: 0, durationMs: rpcMs, timeoutMs: rpcMs + 10_000 })
        if (!f.complete || p.errors > 0) throw new Error(`${c.name}: fan-out ${f.complete ? 'complete' : 'INCOMPLETE'}, ${p.errors} call errors`)
        samples.get(c.name)!.push({ call: p.cpuUsPerCall, delivery: f.cpuUsPerDelivery })
        log(`round ${r} ${c.name.padEnd(7)} ${p.cpuUsPerCall.toFixed(2)} µs CPU/call, ${f.cpuUsPerDelivery.toFixed(3)} µs CPU/delivery`)
        await closeAll(rig, [srv])
      } finally {
        await srv.close()
      }
    }
  }
} finally {
  await killAll()
}

const ref = values.base ? 'base' : 'none'
const rows = configs.map((c) => {
  const s = samples.get(c.name)!
  return { name: c.name, callUs: median(s.map((x) => x.call)), deliveryUs: median(s.map((x) => x.delivery)), samples: s }
})
const refRow = rows.find((r) => r.name === ref)!
log('')
log(`| ${values.kind} | server CPU per call | vs ${ref} | per delivery | vs ${ref} |`)
log('|---|---:|---:|---:|---:|')
for (const r of rows) log(`| ${r.name} | ${r.callUs.toFixed(2)} µs | ${(r.callUs / refRow.callUs).toFixed(3)}× | ${r.deliveryUs.toFixed(3)} µs | ${(r.deliveryUs / refRow.deliveryUs).toFixed(3)}× |`)
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `otel-cost-${values.kind}${values.smoke ? '-smoke' : ''}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:otel-cost ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), kind: values.kind, rounds, rows }, null, 2)}\n`)
log(`wrote ${file}`)
process.exit(0)
