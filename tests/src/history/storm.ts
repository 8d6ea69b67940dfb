import { expect } from 'vitest'
import { until } from '../harness.js'
import { historyClient, type HistoryClient } from './history-client.js'
import type { HistoryNode } from './node.js'
import { PubLog, type StreamId } from './pub-log.js'

export interface StormOptions {
  clients: number
  streams: StreamId[]
  /** How long sockets are being killed. */
  stormMs: number
  /** One publication per node every this many ms, round robin over the streams. */
  publishEveryMs: number
  /** Sockets killed at each tick of 100 ms. */
  killsPerTick: number
}

// Long enough away that each reconnect has publications to recover.
const STORM_RECONNECT = { minDelayMs: 50, maxDelayMs: 250 }

export interface StormFigures {
  published: number
  publishFailed: number
  kills: number
  /** Cuts of a client that had resubscribed every stream since its previous such cut. */
  settledKills: number
  resubscriptions: number
  recovered: number
  /** Publications delivered by replay after a resubscription (missed while away). */
  replayed: number
  deliveries: number
  convergeMs: number
}

/** A steady publisher on every node; `stop()` waits for what is in flight. */
export function publishers(nodes: HistoryNode[], streams: StreamId[], everyMs: number, log: PubLog) {
  const inflight = new Set<Promise<void>>()
  let seq = 0
  const timers = nodes.map((node, i) =>
    setInterval(() => {
      const n = ++seq
      const p = log.publish(node, i, n, streams[n % streams.length]!)
      inflight.add(p)
      void p.finally(() => inflight.delete(p))
    }, everyMs),
  )
  return {
    async stop() {
      for (const t of timers) clearInterval(t)
      await Promise.all(inflight)
    },
  }
}

/** Clients on random nodes, subscribed to every stream, resubscribing on a random node after each kill. */
export async function stormClients(nodes: HistoryNode[], count: number, streams: StreamId[], reconnect = STORM_RECONNECT) {
  const pick = () => nodes[Math.floor(Math.random() * nodes.length)]!.url
  const clients: HistoryClient[] = []
  for (let i = 0; i < count; i++) {
    let first = true
    clients.push(historyClient(`c${i}`, () => (first ? ((first = false), nodes[i % nodes.length]!.url) : pick()), reconnect))
  }
  await Promise.all(clients.map((c) => Promise.all(streams.map((s) => c.follow(s.topic, s.room)))))
  return clients
}

/** Waits until every client is open and holds the top of every stream it follows. */
export async function converged(clients: HistoryClient[], log: PubLog, timeoutMs: number, what: string) {
  const last = (c: HistoryClient) => c.streams.every((r) => (r.got.at(-1)?.offset ?? 0) >= log.top(r))
  await until(() => clients.every((c) => c.client.state === 'open' && last(c)), timeoutMs, what).catch(() => {
    // Left to the assertions, which say what is missing.
  })
}

/**
 * The Centrifuge-style storm: publishers on every node, sockets cut at random every 100 ms, then
 * quiet until everyone has caught up. Returns the clients and the figures; assertions are the caller's.
 */
export async function runStorm(nodes: HistoryNode[], o: StormOptions) {
  const log = new PubLog()
  const clients = await stormClients(nodes, o.clients, o.streams)
  const pub = publishers(nodes, o.streams, o.publishEveryMs, log)
  let kills = 0
  // Cuts fall anywhere, during a recovery too. A cut of a client that has resubscribed every
  // stream since its last such cut (`settled`) is owed one resubscription per stream: by its next
  // settled cut, or after the storm.
  const settledCuts = new Map<HistoryClient, number>()
  const settled = (c: HistoryClient) => c.streams.every((r) => r.infos.length > (settledCuts.get(c) ?? 0))
  const killer = setInterval(() => {
    for (let k = 0; k < o.killsPerTick; k++) {
      const c = clients[Math.floor(Math.random() * clients.length)]!
      const owed = settled(c)
      if (!c.kill()) continue
      kills++
      if (owed) settledCuts.set(c, (settledCuts.get(c) ?? 0) + 1)
    }
  }, 100)
  await new Promise((r) => setTimeout(r, o.stormMs))
  clearInterval(killer)
  await pub.stop()
  const t = Date.now()
  await converged(clients, log, 10_000, 'every client to catch up after the storm')
  // Caught up can come before the last resubscription's answer (nothing was published since).
  await until(() => clients.every(settled), 10_000, 'every client to resubscribe after its last cut').catch(() => {})
  const infos = clients.flatMap((c) => c.streams.flatMap((r) => r.infos.slice(1)))
  const replayed = clients.flatMap((c) => c.streams.flatMap((r) => r.infos.slice(1).map((i) => Math.max(0, i.offset - (r.got[i.at - 1]?.offset ?? 0)))))
  const figures: StormFigures = {
    published: log.published,
    publishFailed: log.failed,
    kills,
    settledKills: [...settledCuts.values()].reduce((a, n) => a + n, 0),
    resubscriptions: infos.length,
    recovered: infos.filter((i) => i.recovered).length,
    replayed: replayed.reduce((a, n) => a + n, 0),
    deliveries: clients.reduce((a, c) => a + c.streams.reduce((b, r) => b + r.got.length, 0), 0),
    convergeMs: Date.now() - t,
  }
  return { clients, log, figures }
}

/**
 * Runs the storm on `nodes` (30 clients, 3 streams, 2 sockets cut every 100 ms) and asserts its
 * outcome: every client has every publication of its streams exactly once, in offset order, and
 * every resubscription said `recovered: true`.
 */
export async function stormRecovers(label: string, nodes: HistoryNode[], stormMs: number): Promise<void> {
  const streams = ['a', 'b', 'c'].map((room) => ({ topic: 'feed' as const, room }))
  const { clients, log, figures } = await runStorm(nodes, { clients: 30, streams, stormMs, publishEveryMs: 15, killsPerTick: 2 })
  try {
    console.log(`${label} storm`, JSON.stringify(figures))
    expect(log.failures).toEqual([])
    expect(log.conflicts).toEqual([])
    expect(log.gaps()).toEqual([])
    expect(clients.flatMap((cl) => cl.streams.flatMap((r) => log.checkComplete(cl.name, r)))).toEqual([])
    expect(clients.flatMap((cl) => cl.errors)).toEqual([])
    expect(figures.kills).toBeGreaterThan(stormMs / 100)
    expect(figures.settledKills).toBeGreaterThan(stormMs / 200)
    expect(figures.resubscriptions).toBeGreaterThanOrEqual(figures.settledKills * streams.length)
    expect(figures.recovered).toBe(figures.resubscriptions)
    // The storm did make clients miss publications: recovery replayed them.
    expect(figures.replayed).toBeGreaterThan(0)
    for (const n of nodes) expect(n.errors).toEqual([])
  } finally {
    await Promise.all(clients.map((cl) => cl.close()))
  }
}
