// `pnpm bench:storm [--smoke] [--clients N] [--client <module>]`: the reconnect storm after a
// graceful close and after a SIGKILL; prints the figures and writes results/storm-<mode>.json.
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describeMachine } from '../harness/machine.js'
import { benchDir, killAll } from '../harness/proc.js'
import { STORM_SIZES, runStorm, type StormResult, type StormVariant } from './run-storm.js'

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    clients: { type: 'string' },
    variants: { type: 'string', default: 'graceful,sigkill' },
    /** While down, the port answers 503 (default) or is closed. */
    down: { type: 'string', default: '503' },
    /** Another build of @rt/client (a file path or URL), e.g. an older commit's, to compare with. */
    client: { type: 'string' },
  },
})
const base = STORM_SIZES[values.smoke ? 'smoke' : 'full']
const sizes = values.clients ? { ...base, clients: Number(values.clients) } : base
const stop = (signal: string) => {
  process.stderr.write(`\n${signal}: stopping every process\n`)
  void killAll().finally(() => process.exit(130))
}
process.once('SIGINT', () => stop('SIGINT'))
process.once('SIGTERM', () => stop('SIGTERM'))

const clientModule = values.client && (values.client.includes('://') ? values.client : new URL(values.client, `file://${process.cwd()}/`).href)
const results: StormResult[] = []
try {
  for (const variant of values.variants.split(',') as StormVariant[]) {
    const down = values.down === 'closed' ? 'closed' : '503'
    results.push(await runStorm(sizes, variant, { down, ...(clientModule && { clientModule }), log: (l) => process.stdout.write(`${l}\n`) }))
  }
} finally {
  await killAll()
}

const rows = results.map(
  (r) =>
    `| ${r.variant === 'graceful' ? 'srv.close()' : 'SIGKILL'}, port ${r.down === 'closed' ? 'closed' : 'answers 503'} | ${r.clients} | ${(r.downMs / 1000).toFixed(1)} s | ${Math.round(r.clientPerSec)} | ${(r.clientAttempts / r.clients).toFixed(1)} | ${r.down === 'closed' ? '–' : `${Math.round(r.serverPerSec)} (peak ${Math.max(0, ...r.serverSeries)})`} | ${(r.recoverMs / 1000).toFixed(1)} s | ${(r.resubscribeMs / 1000).toFixed(1)} s | ${r.reopened}/${r.clients} | ${Math.round(r.recoverCpuMs)} ms | ${r.handshakesPeak} | ${r.bystander ? `${(r.bystander.before.p99Us / 1000).toFixed(2)} / ${(r.bystander.storm.p99Us / 1000).toFixed(2)} ms` : '–'} |`,
)
process.stdout.write(
  [
    '',
    '| node stopped, then | clients | down | client attempts/s | attempts per client | upgrade requests/s at the port | restart → all open | restart → all re-subscribed | open again | server CPU, restart → all open | handshakes in flight, most | other node: call p99 before / during |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
)
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `storm-${sizes.mode}${values.clients || values.client || values.down !== '503' ? '-custom' : ''}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:storm ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), sizes, results }, null, 2)}\n`)
process.stdout.write(`wrote ${file}\n`)
process.exit(results.some((r) => r.errors.length > 0) ? 1 : 0)
