// The history benchmark. (1) Publish and fan-out of a history topic against the same topic without
// history, on the in-memory store: deliveries per second of server CPU. (2) N clients reconnecting
// at once, each having missed M publications: time until every one is recovered, and store reads.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { procCpuUs, startNatsJetStream, type Program } from '../harness/infra.js'
import { Child } from '../harness/proc.js'
import { sleep } from '../wire/clock.js'
import { nowMs } from '../storm/buckets.js'
import type { HistoryConnectArgs } from './history-client.js'
import type { HistoryTopic } from './history-contract.js'
import { median } from '../harness/median.js'

export interface HistorySizes {
  mode: 'full' | 'smoke'
  clientProcs: number
  concurrency: number
  fanout: { clients: number; messages: number; perTurn: number; runs: number }
  recovery: { clients: number; rooms: number; missed: number; reconnect: { minDelayMs: number; maxDelayMs: number } }
  timeoutMs: number
}

export const HISTORY_SIZES: Record<HistorySizes['mode'], HistorySizes> = {
  full: {
    mode: 'full',
    clientProcs: 2,
    concurrency: 250,
    fanout: { clients: 1_000, messages: 200, perTurn: 10, runs: 3 },
    recovery: { clients: 1_000, rooms: 10, missed: 100, reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
    timeoutMs: 60_000,
  },
  smoke: {
    mode: 'smoke',
    clientProcs: 2,
    concurrency: 50,
    fanout: { clients: 100, messages: 20, perTurn: 10, runs: 1 },
    recovery: { clients: 100, rooms: 5, missed: 20, reconnect: { minDelayMs: 20, maxDelayMs: 100 } },
    timeoutMs: 20_000,
  },
}

export interface FanoutRun {
  topic: HistoryTopic
  deliveries: number
  expected: number
  disorder: number
  cpuMs: number
  /** nats-server's CPU meanwhile (store 'nats'). */
  natsCpuMs?: number
  /** Deliveries per second of server CPU. */
  perCpuSecond: number
  /** First publish → last receipt. */
  wallMs: number
}

export type HistoryStoreKind = 'memory' | 'nats'

export interface HistoryResult {
  store: HistoryStoreKind
  sizes: HistorySizes
  fanout: FanoutRun[]
  /** Median history / median plain deliveries per CPU-second. */
  ratio: number
  recovery?: {
    clients: number
    streams: number
    missed: number
    /** The network back → every client has all it missed. */
    allRecoveredMs: number
    /** The network back → every client's resubscription answered (reconnect, handshake, sub). */
    allResubscribedMs: number
    /** The network back → a client has all it missed: median and 95th percentile over the clients. */
    p50Ms: number
    p95Ms: number
    recovered: number
    notRecovered: number
    complete: number
    disorder: number
    storeReads: number
    readsPerRecovery: number
    serverCpuMs: number
    natsCpuMs?: number
  }
  errors: string[]
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? 0
type WaitResult = { streams: number; complete: number; received: number; disorder: number; recovered: number; notRecovered: number; lastAt: number; lastAckAt: number; doneAts: number[]; open: number }

export async function runHistory(sizes: HistorySizes, log: (line: string) => void, store: HistoryStoreKind = 'memory'): Promise<HistoryResult> {
  const r: HistoryResult = { store, sizes, fanout: [], ratio: 0, errors: [] }
  const procs: Child[] = []
  let nats: Program | undefined
  const storeDir = store === 'nats' ? mkdtempSync(join(tmpdir(), 'rt-bench-js-')) : undefined
  const natsCpu = () => (nats ? procCpuUs(nats.pid) / 1000 : 0)
  log = ((l: (line: string) => void) => (line: string) => l(line.replace('[history]', `[history ${store}]`)))(log)
  try {
    if (storeDir) nats = await startNatsJetStream(storeDir)
    const node = await Child.fork<{ port: number }>('history node', '../history/history-node.ts', nats ? { nats: nats.url } : {}, { env: { NODE_ENV: 'production' } })
    procs.push(node)
    const url = `ws://127.0.0.1:${node.info.port}`
    const clients = await Promise.all(
      Array.from({ length: sizes.clientProcs }, async (_, i) => {
        const c = await Child.fork(`history client ${i}`, '../history/history-client.ts', {})
        procs.push(c)
        return c
      }),
    )
    const share = (n: number, i: number) => Math.floor(n / clients.length) + (i < n % clients.length ? 1 : 0)
    const firstOf = (n: number, i: number) => sum(Array.from({ length: i }, (_, j) => share(n, j)))
    const connectAll = async (n: number, topics: HistoryTopic[], prefix: string, rooms: number, reconnect?: HistoryConnectArgs['reconnect']) => {
      const opened = await Promise.all(
        clients.map((c, i) => {
          const args: HistoryConnectArgs = { url, count: share(n, i), first: firstOf(n, i), topics, prefix, rooms, concurrency: sizes.concurrency, ...(reconnect && { reconnect }) }
          return c.request<{ ready: number }>('connect', args, 120_000)
        }),
      )
      const ready = sum(opened.map((o) => o.ready))
      if (ready !== n) throw new Error(`only ${ready} of ${n} clients opened`)
    }
    const waitAll = (topic: HistoryTopic) => Promise.all(clients.map((c) => c.request<WaitResult>('wait', { topic, timeoutMs: sizes.timeoutMs }, sizes.timeoutMs + 10_000)))
    const markAll = (topic: HistoryTopic, expect: number) => Promise.all(clients.map((c) => c.request('mark', { topic, expect })))

    // (1) Fan-out: every client holds the plain and the history stream of one room.
    const f = sizes.fanout
    await connectAll(f.clients, ['plain', 'hist'], 'fan', 1)
    log(`[history] ${f.clients} clients on the plain and the history stream of one room`)
    for (let run = 0; run < f.runs; run++) {
      for (const topic of ['plain', 'hist'] as const) {
        await markAll(topic, f.messages)
        const cpu0 = await node.request<number>('cpu')
        const nats0 = natsCpu()
        const pub = await node.request<{ at: number }>('publish', { topic, rooms: ['fan0'], count: f.messages, perTurn: f.perTurn }, sizes.timeoutMs)
        const waited = await waitAll(topic)
        const cpu1 = await node.request<number>('cpu')
        const natsCpuMs = natsCpu() - nats0
        const deliveries = sum(waited.map((w) => w.received))
        const cpuMs = (cpu1 - cpu0) / 1000
        const one: FanoutRun = { topic, deliveries, expected: f.clients * f.messages, disorder: sum(waited.map((w) => w.disorder)), cpuMs, perCpuSecond: deliveries / (cpuMs / 1000), wallMs: Math.max(...waited.map((w) => w.lastAt)) - pub.at, ...(nats && { natsCpuMs }) }
        r.fanout.push(one)
        if (one.deliveries !== one.expected || one.disorder > 0) r.errors.push(`${topic} run ${run}: ${one.deliveries}/${one.expected} delivered, ${one.disorder} out of order`)
        log(`[history] ${topic}: ${one.deliveries} deliveries, server CPU ${Math.round(cpuMs)} ms → ${Math.round(one.perCpuSecond)}/CPU-s, ${Math.round(one.wallMs)} ms wall${nats ? `, nats-server CPU ${Math.round(natsCpuMs)} ms` : ''}`)
        await sleep(200)
      }
    }
    const per = (t: HistoryTopic) => median(r.fanout.filter((x) => x.topic === t).map((x) => x.perCpuSecond))
    r.ratio = per('hist') / per('plain')
    log(`[history] history / plain deliveries per server-CPU-second: ${r.ratio.toFixed(2)}`)
    await Promise.all(clients.map((c) => c.request('closeAll', {}, 60_000)))

    // (2) Recovery: clients over `rooms` history streams go offline together; each stream gets
    // `missed` publications; the network comes back for all of them at the same moment.
    const rc = sizes.recovery
    await connectAll(rc.clients, ['hist'], 'rec', rc.rooms, rc.reconnect)
    const rooms = Array.from({ length: rc.rooms }, (_, i) => `rec${i}`)
    await markAll('hist', 5)
    await node.request('publish', { topic: 'hist', rooms, count: 5, perTurn: 10 }, sizes.timeoutMs)
    await waitAll('hist')
    await markAll('hist', rc.missed)
    await Promise.all(clients.map((c) => c.request('goOffline')))
    for (let end = nowMs() + 10_000; (await node.request<number>('connections')) > 0 && nowMs() < end; ) await sleep(20)
    await node.request('publish', { topic: 'hist', rooms, count: rc.missed, perTurn: 10 }, sizes.timeoutMs)
    const reads0 = await node.request<number>('reads')
    const cpu0 = await node.request<number>('cpu')
    const nats0 = natsCpu()
    const online = await Promise.all(clients.map((c) => c.request<{ at: number }>('goOnline')))
    const backAt = Math.min(...online.map((o) => o.at))
    const waited = await waitAll('hist')
    const reads = (await node.request<number>('reads')) - reads0
    const cpuMs = ((await node.request<number>('cpu')) - cpu0) / 1000
    const recovered = sum(waited.map((w) => w.recovered))
    r.recovery = {
      clients: rc.clients,
      streams: rc.rooms,
      missed: rc.missed,
      allRecoveredMs: Math.max(...waited.map((w) => w.lastAt)) - backAt,
      allResubscribedMs: Math.max(...waited.map((w) => w.lastAckAt)) - backAt,
      p50Ms: quantile(waited.flatMap((w) => w.doneAts).map((t) => t - backAt), 0.5),
      p95Ms: quantile(waited.flatMap((w) => w.doneAts).map((t) => t - backAt), 0.95),
      recovered,
      notRecovered: sum(waited.map((w) => w.notRecovered)),
      complete: sum(waited.map((w) => w.complete)),
      disorder: sum(waited.map((w) => w.disorder)),
      storeReads: reads,
      readsPerRecovery: reads / Math.max(1, recovered),
      serverCpuMs: cpuMs,
      ...(nats && { natsCpuMs: natsCpu() - nats0 }),
    }
    const x = r.recovery
    if (x.complete !== rc.clients || x.disorder > 0 || x.notRecovered > 0) r.errors.push(`recovery: ${x.complete}/${rc.clients} complete, ${x.disorder} out of order, ${x.notRecovered} not recovered`)
    log(`[history] ${x.clients} clients back at once, ${x.missed} missed each on ${x.streams} streams: all resubscribed in ${Math.round(x.allResubscribedMs)} ms, all recovered in ${Math.round(x.allRecoveredMs)} ms (p50 ${Math.round(x.p50Ms)} ms, p95 ${Math.round(x.p95Ms)} ms); ${x.storeReads} store reads (${x.readsPerRecovery.toFixed(3)} per recovery); server CPU ${Math.round(cpuMs)} ms`)
    await Promise.all(clients.map((c) => c.request('closeAll', {}, 60_000)))
  } catch (e) {
    r.errors.push(e instanceof Error ? e.message : String(e))
    log(`[history] FAILED: ${r.errors.at(-1)}`)
  } finally {
    await Promise.all(procs.map((p) => p.close(3_000)))
    await nats?.stop()
    if (storeDir) rmSync(storeDir, { recursive: true, force: true })
  }
  return r
}
