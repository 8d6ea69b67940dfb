import { describe, it } from 'vitest'
import { createMemoryBus, createMemoryHistory, createMemoryHub } from '@rt/server'
import { startHistoryNode } from './history/node.js'
import { awayBeyondRetention, badPositions } from './history/scenarios.js'
import { stormRecovers } from './history/storm.js'

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
    await stormRecovers('memory', c.nodes, STORM_MS)
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
