// `pnpm bench:history [--smoke]`: history vs plain topic fan-out, and N clients recovering at once
// (see run-history.ts); prints the figures and writes results/history-<mode>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describeMachine } from '../harness/machine.js'
import { benchDir, killAll } from '../harness/proc.js'
import { HISTORY_SIZES, runHistory, type HistoryResult, type HistoryStoreKind } from './run-history.js'
import { median } from '../harness/median.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, store: { type: 'string', default: 'memory,nats' } } })
const sizes = HISTORY_SIZES[values.smoke ? 'smoke' : 'full']
process.once('SIGINT', () => void killAll().finally(() => process.exit(130)))
process.once('SIGTERM', () => void killAll().finally(() => process.exit(130)))

const results: HistoryResult[] = []
try {
  for (const store of values.store.split(',') as HistoryStoreKind[]) results.push(await runHistory(sizes, (l) => process.stdout.write(`${l}\n`), store))
} finally {
  await killAll()
}
const f = sizes.fanout
const fanRows = results.flatMap((result) =>
  (['plain', 'hist'] as const).map((t) => {
    const runs = result.fanout.filter((x) => x.topic === t)
    const nats = result.store === 'nats' ? `${median(runs.map((x) => x.natsCpuMs ?? 0)).toFixed(0)} ms` : '–'
    return `| ${result.store} | ${t === 'plain' ? 'plain topic' : 'history topic (size 200)'} | ${f.clients} × ${f.messages} | ${Math.round(median(runs.map((x) => x.perCpuSecond))).toLocaleString('en')} | ${median(runs.map((x) => x.cpuMs)).toFixed(0)} ms | ${nats} | ${median(runs.map((x) => x.wallMs)).toFixed(0)} ms |`
  }),
)
const recRows = results.flatMap((result) => {
  const x = result.recovery
  if (!x) return []
  return [`| ${result.store} | ${x.clients} | ${x.streams} | ${x.missed} | ${Math.round(x.allResubscribedMs)} ms | ${Math.round(x.allRecoveredMs)} ms | ${Math.round(x.p50Ms)} / ${Math.round(x.p95Ms)} ms | ${x.recovered}/${x.clients} | ${x.storeReads} | ${x.readsPerRecovery.toFixed(3)} | ${Math.round(x.serverCpuMs)} ms | ${x.natsCpuMs === undefined ? '–' : `${Math.round(x.natsCpuMs)} ms`} |`]
})
process.stdout.write(
  [
    '',
    '| store | topic | clients × publications | deliveries per node-CPU-second | node CPU | nats-server CPU | first publish → last receipt |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...fanRows,
    '',
    ...results.map((r) => `${r.store}: history / plain = ${r.ratio.toFixed(2)}${r.store === 'memory' ? ' (target ≥ 0.5)' : ''}`),
    '',
    '| store | clients back at once | streams | missed each | network back → all resubscribed | → all recovered | p50 / p95 | recovered: true | store reads | reads per recovery | node CPU | nats-server CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...recRows,
    '',
    ...results.flatMap((r) => r.errors.map((e) => `ERROR (${r.store}): ${e}`)),
    '',
  ].join('\n'),
)
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `history-${sizes.mode}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:history ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), results }, null, 2)}\n`)
process.stdout.write(`wrote ${file}\n`)
process.exit(results.some((r) => r.errors.length > 0) ? 1 : 0)
