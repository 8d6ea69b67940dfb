import { afterAll, describe, expect, it } from 'vitest'
import { startNatsCluster, type NatsCluster } from './nats/nats-server.js'
import { natsHistoryNodes } from './history/nats-nodes.js'
import { awayBeyondRetention } from './history/scenarios.js'
import { runStorm } from './history/storm.js'

let shared: Promise<NatsCluster> | undefined
const cluster = () => (shared ??= startNatsCluster(3, { jetstream: true }))
afterAll(async () => {
  if (shared) await (await shared)[Symbol.asyncDispose]()
})

const STORM_MS = Number(process.env.RT_STORM_MS ?? 10_000)

describe('topic history on 3 nodes, each on a different server of a 3-server NATS cluster with JetStream', () => {
  it('recovery storm: sockets cut every 100 ms while every node publishes; every client ends with every publication once, in order, every resubscription recovered', { timeout: STORM_MS + 40_000 }, async () => {
    await using c = await natsHistoryNodes((await cluster()).urls)
    const streams = ['a', 'b', 'c'].map((room) => ({ topic: 'feed' as const, room }))
    const { clients, log, figures } = await runStorm(c.nodes, { clients: 30, streams, stormMs: STORM_MS, publishEveryMs: 15, killsPerTick: 2 })
    try {
      console.log('nats storm', JSON.stringify(figures))
      expect(log.failures).toEqual([])
      expect(log.conflicts).toEqual([])
      expect(log.gaps()).toEqual([])
      expect(clients.flatMap((cl) => cl.streams.flatMap((r) => log.checkComplete(cl.name, r)))).toEqual([])
      expect(clients.flatMap((cl) => cl.errors)).toEqual([])
      expect(figures.kills).toBeGreaterThan(STORM_MS / 100)
      expect(figures.resubscriptions).toBeGreaterThanOrEqual(figures.kills * streams.length * 0.9)
      expect(figures.recovered).toBe(figures.resubscriptions)
      // The storm did make clients miss publications: recovery replayed them.
      expect(figures.replayed).toBeGreaterThan(0)
      for (const n of c.nodes) expect(n.errors).toEqual([])
    } finally {
      await Promise.all(clients.map((cl) => cl.close()))
    }
  })

  it('clients away longer than the retention (size and ttl) are each told recovered: false, never a silent gap', async () => {
    await using c = await natsHistoryNodes((await cluster()).urls)
    const figures = await awayBeyondRetention(c.nodes, 9, 'away')
    console.log('nats away', JSON.stringify(figures))
  })
})
