import type { ConnectArgs } from '../client/client-main.js'
import type { RpcArgs } from '../client/rpc-run.js'
import type { FanoutArgs } from '../server/server-main.js'
import { sleep } from '../wire/clock.js'
import { mergeHistograms, quantile, type HistogramData } from '../wire/histogram.js'
import type { ProtocolName } from '../wire/protocols.js'
import type { Child } from './proc.js'
import type { ConnectResult, FanoutResult, MemoryResult, RpcResult } from './results.js'

/** Load-client processes and how they open sockets. */
export interface Rig {
  clients: Child[]
  localAddresses: string[]
  concurrency: number
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const cpuOf = (ps: Child[]) => Promise.all(ps.map((p) => p.request<number>('cpu')))

/** Opens `n` sockets spread over the client processes (and round-robin over `bases`). */
export async function connect(rig: Rig, server: Child, bases: string[], protocol: ProtocolName, n: number): Promise<ConnectResult> {
  const k = rig.clients.length
  const cpu0 = await server.request<number>('cpu')
  const parts = await Promise.all(
    rig.clients.map((c, i) => {
      const count = Math.floor(n / k) + (i < n % k ? 1 : 0)
      const offset = i * Math.ceil(n / k)
      const args: ConnectArgs = { bases, protocol, count, offset, concurrency: rig.concurrency, localAddresses: rig.localAddresses, timeoutMs: 15_000 }
      return c.request<{ ready: number; failed: number; startUs: number; endUs: number }>('connect', args, 120_000)
    }),
  )
  const cpu1 = await server.request<number>('cpu')
  const ready = sum(parts.map((p) => p.ready))
  const wallMs = (Math.max(...parts.map((p) => p.endUs)) - Math.min(...parts.map((p) => p.startUs))) / 1000
  return { n, ready, failed: sum(parts.map((p) => p.failed)), wallMs, perSec: (ready / wallMs) * 1000, cpuUsPerConn: (cpu1 - cpu0) / Math.max(1, ready) }
}

export async function closeAll(rig: Rig, servers: Child[]): Promise<void> {
  await Promise.all(rig.clients.map((c) => c.request('closeAll', {}, 60_000)))
  // Wait until the servers have let go of them too, so the next phase starts clean.
  const end = Date.now() + 10_000
  while (Date.now() < end) {
    const sizes = await Promise.all(servers.map((s) => s.request<number>('roomSize')))
    if (sum(sizes) === 0) return
    await sleep(50)
  }
}

export async function roomSize(servers: Child[]): Promise<number> {
  return sum(await Promise.all(servers.map((s) => s.request<number>('roomSize'))))
}

/** A server's memory; `young`: the committed size of V8's young generation. */
export interface MemoryReading {
  rss: number
  heapUsed: number
  young: number
}

/** Heap and RSS after three full GCs in the server process. */
export async function memory(server: Child): Promise<MemoryReading> {
  return server.request('mem')
}

export function memoryDelta(n: number, before: MemoryReading, after: MemoryReading): MemoryResult {
  return {
    n,
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    rssPerConn: (after.rss - before.rss) / n,
    heapPerConn: (after.heapUsed - before.heapUsed) / n,
    youngPerConn: (after.young - before.young) / n,
  }
}

interface Collected {
  delivered: number
  target: number
  minPerSocket: number
  maxPerSocket: number
  outOfOrder: number
  firstRecvUs: number
  lastRecvUs: number
  hist: HistogramData
}

/**
 * One fan-out: `origin` sends `messages` ticks to room `bench`; every client counts what arrives.
 * Server CPU is summed over `servers` (all nodes of a cluster); `busCpu` reads the bus program's.
 */
export async function fanout(
  rig: Rig,
  servers: Child[],
  origin: Child,
  n: number,
  args: FanoutArgs,
  timeoutMs: number,
  busCpu?: () => number,
): Promise<FanoutResult> {
  await Promise.all(rig.clients.map((c) => c.request('arm', { perSocket: args.messages })))
  const [cpu0, ccpu0, bus0] = [await cpuOf(servers), await cpuOf(rig.clients), busCpu?.() ?? 0]
  const sent = await origin.request<{ startUs: number; endUs: number }>('fanout', args, timeoutMs)
  const got = await Promise.all(rig.clients.map((c) => c.request<Collected>('collect', { timeoutMs }, timeoutMs + 10_000)))
  const [cpu1, ccpu1, bus1] = [await cpuOf(servers), await cpuOf(rig.clients), busCpu?.() ?? 0]
  const delivered = sum(got.map((g) => g.delivered))
  const expected = n * args.messages
  const last = Math.max(...got.map((g) => g.lastRecvUs))
  const wallMs = Math.max(0.001, (last - sent.startUs) / 1000)
  const serverCpuUs = sum(cpu1) - sum(cpu0)
  const h = mergeHistograms(got.map((g) => g.hist))
  const outOfOrder = sum(got.map((g) => g.outOfOrder))
  return {
    n,
    messages: args.messages,
    burst: args.burst,
    intervalMs: args.intervalMs,
    expected,
    delivered,
    complete: delivered === expected && outOfOrder === 0 && got.every((g) => g.minPerSocket === args.messages && g.maxPerSocket === args.messages),
    outOfOrder,
    wallMs,
    deliveriesPerSec: (delivered / wallMs) * 1000,
    serverCpuUs,
    cpuUsPerDelivery: serverCpuUs / Math.max(1, delivered),
    deliveriesPerCpuSec: (delivered / Math.max(1, serverCpuUs)) * 1e6,
    ...(busCpu && { busCpuUs: bus1 - bus0 }),
    clientCpuUs: sum(ccpu1) - sum(ccpu0),
    p50Us: quantile(h, 0.5),
    p99Us: quantile(h, 0.99),
    maxUs: h.max,
  }
}

interface RpcPart {
  sockets: number
  recorded: number
  total: number
  answered: number
  errors: number
  recFromUs: number
  recToUs: number
  hist: HistogramData
}

/** `clients` sockets (spread over the client processes) call `echo` in a closed loop. */
export async function rpc(rig: Rig, server: Child, clients: number, a: Omit<RpcArgs, 'sockets'>): Promise<RpcResult> {
  const k = rig.clients.length
  const cpu0 = await server.request<number>('cpu')
  const parts = await Promise.all(
    rig.clients.map((c, i) =>
      c.request<RpcPart>('rpc', { ...a, sockets: Math.floor(clients / k) + (i < clients % k ? 1 : 0) }, a.timeoutMs + 10_000),
    ),
  )
  const cpu1 = await server.request<number>('cpu')
  const h = mergeHistograms(parts.map((p) => p.hist))
  const calls = sum(parts.map((p) => p.recorded))
  const windowMs =
    a.callsPerSocket !== undefined
      ? (Math.max(...parts.map((p) => p.recToUs)) - Math.min(...parts.map((p) => p.recFromUs))) / 1000
      : a.durationMs
  const total = sum(parts.map((p) => p.total))
  return {
    clients: sum(parts.map((p) => p.sockets)),
    calls,
    callsPerSec: (calls / Math.max(0.001, windowMs)) * 1000,
    total,
    answered: sum(parts.map((p) => p.answered)),
    errors: sum(parts.map((p) => p.errors)),
    serverCpuUs: cpu1 - cpu0,
    cpuUsPerCall: (cpu1 - cpu0) / Math.max(1, total),
    p50Us: quantile(h, 0.5),
    p99Us: quantile(h, 0.99),
  }
}
