import type { ContenderId } from '../harness/contenders.js'
import type { BenchResults, ContenderResult, FanoutResult } from '../harness/results.js'
import { kib, ms, num, ratio, table } from './format.js'
import { targetRows } from './targets.js'

const by = (r: BenchResults, id: ContenderId) => r.contenders.find((c) => c.id === id)
const flag = (f: FanoutResult | undefined) => (f && !f.complete ? ' ⚠ incomplete' : '')

/** Ratios of `value(c)` against Socket.IO, raw ws and raw uWS (higher is better). */
function ratios(r: BenchResults, c: ContenderResult, value: (c: ContenderResult) => number | undefined): string[] {
  return (['sio', 'raw-ws', 'raw-uws'] as const).map((id) => {
    const other = by(r, id)
    return other && other.id !== c.id ? ratio(value(c), value(other)) : '—'
  })
}

function fanoutTable(r: BenchResults, pick: (c: ContenderResult) => FanoutResult | undefined): string {
  const rows = r.contenders.map((c) => {
    const f = pick(c)
    return [
      `${c.label}${flag(f)}`,
      num(f?.deliveriesPerSec),
      num(f?.cpuUsPerDelivery, 3),
      num(f?.deliveriesPerCpuSec),
      ms(f?.p50Us),
      ms(f?.p99Us),
      ...ratios(r, c, (x) => pick(x)?.deliveriesPerCpuSec),
      ...ratios(r, c, (x) => pick(x)?.deliveriesPerSec).slice(0, 1),
    ]
  })
  return table(
    ['contender', 'deliveries/s (wall)', 'server CPU µs/delivery', 'deliveries per server-CPU-s', 'p50 ms', 'p99 ms', '×Socket.IO (CPU)', '×raw ws (CPU)', '×raw uWS (CPU)', '×Socket.IO (wall)'],
    rows,
  )
}

export function renderMarkdown(r: BenchResults, chart?: string): string {
  const s = r.sizes as { bigN: number; bigM: number; smallN: number; smallM: number; burst: number; paced: { deliveriesPerSec: number } | null; rpc: { clients: number; durationMs: number }; cluster: { nodes: number; n: number; m: number; paced?: { deliveriesPerSec: number } } | null }
  const m = r.machine
  const uws = by(r, 'raw-uws')?.facts.uwsNative ?? by(r, 'rt-uws')?.facts.uwsNative
  const out: string[] = []
  out.push(
    `Run: \`${r.command}\` (${r.mode}), ${r.startedAt}, took ${num(r.durationMs / 1000)} s.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. Server, load clients and bus share the ${m.cores} cores; 1-minute load average ${num(m.loadAvg.start, 2)} at the start, ${num(m.loadAvg.end, 2)} at the end.`,
    `Versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(', ')}. uWebSockets.js: ${uws === true ? 'native binary' : uws === false ? '**JS fallback (slow!)**' : 'not loaded'}.`,
    '',
  )
  if (chart) out.push(`![benchmark chart](${chart})`, '')
  out.push('### Targets', '', table(['target', 'measured', 'met'], targetRows(r)), '')
  out.push(`### Room fan-out, ${num(s.bigN)} connections × ${s.bigM} messages (${s.burst} per event-loop turn)`, '', fanoutTable(r, (c) => c.fanoutBig), '')
  out.push(`### Room fan-out, ${num(s.smallN)} connections × ${s.smallM} messages`, '', fanoutTable(r, (c) => c.fanoutSmall), '')
  if (s.paced) {
    out.push(
      `### Fan-out latency at the same offered load (${num(s.paced.deliveriesPerSec)} deliveries/s, one message at a time)`,
      '',
      table(
        ['contender', `p50 ms (${num(s.bigN)})`, `p99 ms (${num(s.bigN)})`, `p50 ms (${num(s.smallN)})`, `p99 ms (${num(s.smallN)})`, 'server CPU µs/delivery'],
        r.contenders.map((c) => [`${c.label}${flag(c.pacedBig)}${flag(c.pacedSmall)}`, ms(c.pacedBig?.p50Us), ms(c.pacedBig?.p99Us), ms(c.pacedSmall?.p50Us), ms(c.pacedSmall?.p99Us), num(c.pacedSmall?.cpuUsPerDelivery, 3)]),
      ),
      '',
    )
  }
  out.push(
    `### RPC: ${s.rpc.clients} clients, one echo call in flight each, ${num(s.rpc.durationMs / 1000, 1)} s`,
    '',
    table(
      ['contender', 'calls/s', 'p50 ms', 'p99 ms', 'server CPU µs/call', 'errors', '×Socket.IO', '×raw ws', '×raw uWS'],
      r.contenders.map((c) => [c.label, num(c.rpc?.callsPerSec), ms(c.rpc?.p50Us), ms(c.rpc?.p99Us), num(c.rpc?.cpuUsPerCall, 2), num(c.rpc?.errors), ...ratios(r, c, (x) => x.rpc?.callsPerSec)]),
    ),
    '',
    `### Idle memory per connection at ${num(s.bigN)} connections (server process, after GC)`,
    '',
    table(
      ['contender', 'RSS KiB/conn', 'heap KiB/conn', 'RSS ÷ Socket.IO', 'RSS ÷ raw ws', 'RSS ÷ raw uWS'],
      r.contenders.map((c) => {
        const inv = (x: ContenderResult) => x.memory?.rssPerConn
        return [c.label, kib(c.memory?.rssPerConn), kib(c.memory?.heapPerConn), ...ratios(r, c, inv)]
      }),
    ),
    '',
    `### Connection setup (connect + auth + join the room), ${num(s.bigN)} connections`,
    '',
    table(
      ['contender', 'connections/s', 'server CPU µs/connection', 'failed', '×Socket.IO', '×raw ws', '×raw uWS'],
      r.contenders.map((c) => [c.label, num(c.connect?.perSec), num(c.connect?.cpuUsPerConn, 1), num(c.connect?.failed), ...ratios(r, c, (x) => x.connect?.perSec)]),
    ),
    '',
  )
  if (s.cluster && r.cluster.length > 0) {
    out.push(
      `### Cross-node fan-out: ${num(s.cluster.n)} connections over ${s.cluster.nodes} nodes × ${s.cluster.m} messages, sent on node 1`,
      '',
      table(
        ['contender', 'bus', '1 node deliveries/s', `${s.cluster.nodes} nodes deliveries/s`, 'ratio', '1 node CPU µs/delivery', `${s.cluster.nodes} nodes CPU µs/delivery (+ bus)`, `${s.cluster.nodes} nodes p50 / p99 ms`],
        r.cluster.map((c) => [
          `${c.label}${flag(c.single)}${flag(c.cluster)}${c.errors.length ? ' ⚠ error' : ''}`,
          c.bus,
          num(c.single?.deliveriesPerSec),
          num(c.cluster?.deliveriesPerSec),
          ratio(c.cluster?.deliveriesPerSec, c.single?.deliveriesPerSec),
          num(c.single?.cpuUsPerDelivery, 3),
          c.cluster ? `${num(c.cluster.cpuUsPerDelivery, 3)} (+${num((c.cluster.busCpuUs ?? 0) / Math.max(1, c.cluster.delivered), 3)})` : '—',
          c.cluster ? `${ms(c.cluster.p50Us)} / ${ms(c.cluster.p99Us)}` : '—',
        ]),
      ),
      '',
    )
    const paced = s.cluster.paced
    if (paced && r.cluster.some((c) => c.singlePaced || c.clusterPaced)) {
      out.push(
        `### Cross-node fan-out latency at the same offered load (${num(paced.deliveriesPerSec)} deliveries/s, one message at a time, ${num(s.cluster.n)} connections)`,
        '',
        table(
          ['contender', 'bus', '1 node p50 / p99 ms', `${s.cluster.nodes} nodes p50 / p99 ms`, 'p99 ratio'],
          r.cluster.map((c) => [
            `${c.label}${flag(c.singlePaced)}${flag(c.clusterPaced)}`,
            c.bus,
            c.singlePaced ? `${ms(c.singlePaced.p50Us)} / ${ms(c.singlePaced.p99Us)}` : '—',
            c.clusterPaced ? `${ms(c.clusterPaced.p50Us)} / ${ms(c.clusterPaced.p99Us)}` : '—',
            ratio(c.clusterPaced?.p99Us, c.singlePaced?.p99Us),
          ]),
        ),
        '',
      )
    }
  }
  const errors = [...r.contenders, ...r.cluster].flatMap((c) => c.errors.map((e) => `- ${c.label}: ${e}`))
  if (errors.length) out.push('### Errors', '', ...errors, '')
  return out.join('\n')
}
