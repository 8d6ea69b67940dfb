import { afterAll, describe, it } from 'vitest'
import { startNatsCluster, type NatsCluster } from './nats/nats-server.js'
import { natsHistoryNodes } from './history/nats-nodes.js'
import { awayBeyondRetention } from './history/scenarios.js'
import { stormRecovers } from './history/storm.js'

let shared: Promise<NatsCluster> | undefined
const cluster = () => (shared ??= startNatsCluster(3, { jetstream: true }))
afterAll(async () => {
  if (shared) await (await shared)[Symbol.asyncDispose]()
})

const STORM_MS = Number(process.env.RT_STORM_MS ?? 10_000)

describe('topic history on 3 nodes, each on a different server of a 3-server NATS cluster with JetStream', () => {
  it('recovery storm: sockets cut every 100 ms while every node publishes; every client ends with every publication once, in order, every resubscription recovered', { timeout: STORM_MS + 40_000 }, async () => {
    await using c = await natsHistoryNodes((await cluster()).urls)
    await stormRecovers('nats', c.nodes, STORM_MS)
  })

  it('clients away longer than the retention (size and ttl) are each told recovered: false, never a silent gap', async () => {
    await using c = await natsHistoryNodes((await cluster()).urls)
    const figures = await awayBeyondRetention(c.nodes, 9, 'away')
    console.log('nats away', JSON.stringify(figures))
  })
})
