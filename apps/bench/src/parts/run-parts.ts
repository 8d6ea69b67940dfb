import { CONTENDERS, type Contender } from '../harness/contenders.js'
import { closeAll, connect, rpc, type Rig } from '../harness/measure.js'
import { median } from '../harness/median.js'
import type { ConnectResult, RpcResult } from '../harness/results.js'
import { startServer } from '../harness/run-contender.js'
import type { ProtocolName } from '../wire/protocols.js'
import type { ServerConfig } from '../server/bench-server.js'

export interface PartsSizes {
  mode: 'full' | 'smoke'
  rounds: number
  /** Connections opened for a setup figure. */
  connections: number
  /**
   * Rounds of `connections` opened and closed between the first setup figure (right after 200
   * warm-up connections, with code the JIT has barely compiled) and the warm one.
   */
  warmRounds: number
  /** Sockets calling back to back for an RPC figure. */
  clients: number
  warmupMs: number
  durationMs: number
  /** Counted RPC run instead of a timed one (smoke): this many calls per socket. */
  callsPerSocket?: number
}

export const PARTS_SIZES: Record<PartsSizes['mode'], PartsSizes> = {
  full: { mode: 'full', rounds: 5, connections: 2_000, warmRounds: 3, clients: 20, warmupMs: 300, durationMs: 3_000 },
  smoke: { mode: 'smoke', rounds: 1, connections: 20, warmRounds: 1, clients: 4, warmupMs: 0, durationMs: 0, callsPerSocket: 20 },
}

/** One way of serving: raw uWS doing more and more of what @rt must, then @rt. */
export interface Part {
  id: string
  label: string
  contender: Contender
  /** The load clients' protocol: raw uWS's own, or @rt's for raw uWS's `hello` setup. */
  protocol: ProtocolName
  extra: Pick<ServerConfig, 'rawRpc' | 'rawSetup'>
}

const uws = (id: 'raw-uws' | 'rt-uws') => CONTENDERS.find((c) => c.id === id)!
const rtUws: Part = { id: 'rt-uws', label: '@rt + uWS', contender: uws('rt-uws'), protocol: 'rt', extra: {} }

/** What a call costs, step by step. */
export const RPC_PARTS: readonly Part[] = [
  { id: 'raw-echo', label: 'raw uWS: the bytes echoed from the message callback', contender: uws('raw-uws'), protocol: 'raw', extra: {} },
  { id: 'raw-deferred', label: 'raw uWS: the bytes echoed at the end of the turn', contender: uws('raw-uws'), protocol: 'raw', extra: { rawRpc: 'deferred' } },
  { id: 'raw-json', label: 'raw uWS: JSON decoded, an answer encoded, at the end of the turn', contender: uws('raw-uws'), protocol: 'raw', extra: { rawRpc: 'json' } },
  { ...rtUws, label: '@rt + uWS: a call validated, its handler run, its result validated and encoded' },
]

/** What a connection costs (connect, authenticate, join the room and the user's room), step by step. */
export const SETUP_PARTS: readonly Part[] = [
  { id: 'raw-upgrade', label: 'raw uWS: the token checked on the upgrade, nothing exchanged', contender: uws('raw-uws'), protocol: 'raw', extra: {} },
  { id: 'raw-hello', label: 'raw uWS: a hello frame decoded and checked, a welcome frame written', contender: uws('raw-uws'), protocol: 'rt', extra: { rawSetup: 'hello' } },
  { ...rtUws, label: '@rt + uWS: hello, authenticate, welcome, the connection recorded in the directory' },
]

/** A setup run, with the part of its server CPU spent off the main thread (Linux: from /proc). */
export interface SetupRun extends ConnectResult {
  /** µs per connection in threads other than the main one: V8's compiler and GC helpers. */
  helperUsPerConn?: number
}

export interface PartResult<R> {
  id: string
  label: string
  /** One per round; the median is the figure. */
  runs: R[]
  /** Server CPU per call or per connection (µs), the median of the runs. */
  cpuUs: number
  /** Setup only: the runs right after start (200 warm-up connections), and their median. */
  firstRuns?: R[]
  firstCpuUs?: number
  errors: string[]
}

export interface PartsResults {
  rpc: PartResult<RpcResult>[]
  setup: PartResult<SetupRun>[]
}

/**
 * Every part on a fresh server per round, the parts interleaved round by round, so that a busy
 * machine hits them alike: first what each RPC part costs a call, then what each setup part
 * costs a connection, twice on one server: right after start, then warm.
 */
export async function runParts(sizes: PartsSizes, rig: Rig, log: (line: string) => void, parts = { rpc: RPC_PARTS, setup: SETUP_PARTS }): Promise<PartsResults> {
  const fresh = <R>(p: Part): PartResult<R> => ({ id: p.id, label: p.label, runs: [], cpuUs: 0, errors: [] })
  const out: PartsResults = { rpc: parts.rpc.map(fresh<RpcResult>), setup: parts.setup.map(fresh<SetupRun>) }
  const args = {
    warmupMs: sizes.warmupMs,
    durationMs: sizes.durationMs,
    timeoutMs: sizes.warmupMs + sizes.durationMs + 20_000,
    ...(sizes.callsPerSocket !== undefined && { callsPerSocket: sizes.callsPerSocket }),
  }
  const on = async (p: Part, fn: (srv: Awaited<ReturnType<typeof startServer>>, bases: string[]) => Promise<void>) => {
    const srv = await startServer(p.contender, { log }, p.extra, `server ${p.id}`)
    try {
      await fn(srv, [`ws://127.0.0.1:${srv.info.port}`])
    } finally {
      await srv.close()
    }
  }
  for (let round = 0; round < sizes.rounds; round++) {
    for (const [i, p] of parts.rpc.entries()) {
      const r = out.rpc[i]!
      await on(p, async (srv, bases) => {
        // Warm the JIT on calls first, on sockets of their own.
        await connect(rig, srv, bases, p.protocol, sizes.clients)
        await rpc(rig, srv, sizes.clients, { warmupMs: sizes.warmupMs, durationMs: 0, timeoutMs: 20_000 })
        await closeAll(rig, [srv])
        const c = await connect(rig, srv, bases, p.protocol, sizes.clients)
        if (c.ready !== sizes.clients) r.errors.push(`round ${round + 1}: ${c.ready} of ${sizes.clients} sockets connected`)
        const run = await rpc(rig, srv, sizes.clients, args)
        if (run.errors > 0 || run.answered !== run.total) r.errors.push(`round ${round + 1}: ${run.answered} of ${run.total} calls answered, ${run.errors} errors`)
        r.runs.push(run)
        log(`[rpc ${p.id}] round ${round + 1}: ${run.cpuUsPerCall.toFixed(2)} µs CPU/call, ${Math.round(run.callsPerSec)} calls/s`)
        await closeAll(rig, [srv])
      })
    }
    for (const [i, p] of parts.setup.entries()) {
      const r = out.setup[i]!
      await on(p, async (srv, bases) => {
        const measured = async (runs: SetupRun[], what: string) => {
          const h0 = await srv.request<number | null>('helperCpu')
          const conn = await connect(rig, srv, bases, p.protocol, sizes.connections)
          const h1 = await srv.request<number | null>('helperCpu')
          const c: SetupRun = h0 !== null && h1 !== null ? { ...conn, helperUsPerConn: (h1 - h0) / Math.max(1, conn.ready) } : conn
          if (c.ready !== sizes.connections) r.errors.push(`round ${round + 1}, ${what}: ${c.ready} of ${sizes.connections} connected, ${c.failed} failed`)
          runs.push(c)
          const helpers = c.helperUsPerConn === undefined ? '' : ` (${c.helperUsPerConn.toFixed(0)} in helper threads)`
          log(`[setup ${p.id}] round ${round + 1}, ${what}: ${c.cpuUsPerConn.toFixed(1)} µs CPU/connection${helpers}, ${Math.round(c.perSec)}/s`)
          await closeAll(rig, [srv])
        }
        await connect(rig, srv, bases, p.protocol, Math.min(200, sizes.connections))
        await closeAll(rig, [srv])
        await measured((r.firstRuns ??= []), 'first')
        for (let w = 0; w < sizes.warmRounds; w++) {
          await connect(rig, srv, bases, p.protocol, sizes.connections)
          await closeAll(rig, [srv])
        }
        await measured(r.runs, 'warm')
      })
    }
  }
  for (const r of out.rpc) r.cpuUs = median(r.runs.map((x) => x.cpuUsPerCall))
  for (const r of out.setup) {
    r.cpuUs = median(r.runs.map((x) => x.cpuUsPerConn))
    r.firstCpuUs = median((r.firstRuns ?? []).map((x) => x.cpuUsPerConn))
  }
  return out
}
