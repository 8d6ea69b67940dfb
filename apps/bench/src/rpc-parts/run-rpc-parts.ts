import { CONTENDERS, type Contender } from '../harness/contenders.js'
import { closeAll, connect, rpc, type Rig } from '../harness/measure.js'
import { median } from '../harness/median.js'
import type { RpcResult } from '../harness/results.js'
import { startServer } from '../harness/run-contender.js'
import type { ServerConfig } from '../server/bench-server.js'

export interface RpcPartsSizes {
  mode: 'full' | 'smoke'
  rounds: number
  clients: number
  warmupMs: number
  durationMs: number
  /** Counted run instead of a timed one (smoke): this many calls per socket. */
  callsPerSocket?: number
}

export const RPC_PARTS_SIZES: Record<RpcPartsSizes['mode'], RpcPartsSizes> = {
  full: { mode: 'full', rounds: 5, clients: 20, warmupMs: 300, durationMs: 3_000 },
  smoke: { mode: 'smoke', rounds: 1, clients: 4, warmupMs: 0, durationMs: 0, callsPerSocket: 20 },
}

/** One way of answering a call: raw uWS doing more and more of what an RPC server must, then @rt. */
export interface RpcPart {
  id: string
  label: string
  contender: Contender
  extra: Pick<ServerConfig, 'rawRpc'>
}

const uws = (id: 'raw-uws' | 'rt-uws') => CONTENDERS.find((c) => c.id === id)!

export const RPC_PARTS: readonly RpcPart[] = [
  { id: 'raw-echo', label: 'raw uWS: the bytes echoed from the message callback', contender: uws('raw-uws'), extra: {} },
  { id: 'raw-deferred', label: 'raw uWS: the bytes echoed at the end of the turn', contender: uws('raw-uws'), extra: { rawRpc: 'deferred' } },
  { id: 'raw-json', label: 'raw uWS: JSON decoded, an answer encoded, at the end of the turn', contender: uws('raw-uws'), extra: { rawRpc: 'json' } },
  { id: 'rt-uws', label: '@rt + uWS: a call validated, its handler run, its result validated and encoded', contender: uws('rt-uws'), extra: {} },
]

export interface RpcPartResult {
  id: string
  label: string
  /** One per round; the median is the figure. */
  runs: RpcResult[]
  cpuUsPerCall: number
  callsPerSec: number
  errors: string[]
}

/** Every part on a fresh server per round, the parts interleaved round by round, so that a busy machine hits them alike. */
export async function runRpcParts(sizes: RpcPartsSizes, rig: Rig, log: (line: string) => void, parts: readonly RpcPart[] = RPC_PARTS): Promise<RpcPartResult[]> {
  const results: RpcPartResult[] = parts.map((p) => ({ id: p.id, label: p.label, runs: [], cpuUsPerCall: 0, callsPerSec: 0, errors: [] }))
  const args = {
    warmupMs: sizes.warmupMs,
    durationMs: sizes.durationMs,
    timeoutMs: sizes.warmupMs + sizes.durationMs + 20_000,
    ...(sizes.callsPerSocket !== undefined && { callsPerSocket: sizes.callsPerSocket }),
  }
  for (let round = 0; round < sizes.rounds; round++) {
    for (const [i, p] of parts.entries()) {
      const r = results[i]!
      const srv = await startServer(p.contender, { log }, p.extra, `server ${p.id}`)
      try {
        const bases = [`ws://127.0.0.1:${srv.info.port}`]
        // Warm the JIT on calls first, on sockets of their own.
        await connect(rig, srv, bases, p.contender.protocol, sizes.clients)
        await rpc(rig, srv, sizes.clients, { warmupMs: sizes.warmupMs, durationMs: 0, timeoutMs: 20_000 })
        await closeAll(rig, [srv])
        const c = await connect(rig, srv, bases, p.contender.protocol, sizes.clients)
        if (c.ready !== sizes.clients) r.errors.push(`round ${round + 1}: ${c.ready} of ${sizes.clients} sockets connected`)
        const run = await rpc(rig, srv, sizes.clients, args)
        if (run.errors > 0 || run.answered !== run.total) r.errors.push(`round ${round + 1}: ${run.answered} of ${run.total} calls answered, ${run.errors} errors`)
        r.runs.push(run)
        log(`[${p.id}] round ${round + 1}: ${run.cpuUsPerCall.toFixed(2)} µs CPU/call, ${Math.round(run.callsPerSec)} calls/s`)
        await closeAll(rig, [srv])
      } finally {
        await srv.close()
      }
    }
  }
  for (const r of results) {
    r.cpuUsPerCall = median(r.runs.map((x) => x.cpuUsPerCall))
    r.callsPerSec = median(r.runs.map((x) => x.callsPerSec))
  }
  return results
}
