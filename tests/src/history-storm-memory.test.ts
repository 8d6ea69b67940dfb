import { describe, expect, it } from 'vitest'
import { createMemoryBus, createMemoryHistory, createMemoryHub } from '@rt/server'
import { startHistoryNode } from './history/node.js'
import { awayBeyondRetention, badPositions } from './history/scenarios.js'
import { runStorm } from './history/storm.js'

// Three nodes in one process on one memory hub, sharing one memory store: the embedded default as a cluster.
async function memoryCluster() {
  const hub = createMemoryHub()
  const history = createMemoryHistory()
  const nodes = await Promise.all([0, 1, 2].map(() => startHistoryNode({ bus: createMemoryBus({ hub }), history })))
  return {
    nodes,
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()))
      await history.close()
    },
  }
}

const STORM_MS = Number(process.env.RT_STORM_MS ?? 10_000)

describe('topic history on 3 nodes sharing the memory bus and one memory store', () => {
  it('recovery storm: sockets cut every 100 ms while every node publishes; every client ends with every publication once, in order, every resubscription recovered', { timeout: STORM_MS + 30_000 }, async () => {
    await using c = await memoryCluster()
    const streams = ['a', 'b', 'c'].map((room) => ({ topic: 'feed' as const, room }))
    const { clients, log, figures } = await runStorm(c.nodes, { clients: 30, streams, stormMs: STORM_MS, publishEveryMs: 15, killsPerTick: 2 })
    try {
      console.log('memory storm', JSON.stringify(figures))
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
    await using c = await memoryCluster()
    const figures = await awayBeyondRetention(c.nodes, 9, 'away')
    console.log('memory away', JSON.stringify(figures))
  })

  it('bad positions: wrong epoch and future offset → recovered: false on every node, malformed → BAD_REQUEST, never a crash', async () => {
    await using c = await memoryCluster()
    await badPositions(c.nodes, 'bad')
  })
})
