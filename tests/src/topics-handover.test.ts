import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createNatsBus } from '@rt/bus-nats'
import { createMemoryBus, createMemoryHub, type Bus } from '@rt/server'
import { connect, sleep, startServer, until, wsTransport } from './harness.js'
import { startNatsCluster, type NatsCluster } from './nats/nats-server.js'

let nats: Promise<NatsCluster> | undefined
afterAll(async () => {
  if (nats) await (await nats)[Symbol.asyncDispose]()
})

const sets: [string, () => Promise<Bus[]>][] = [
  [
    'the memory bus',
    async () => {
      const hub = createMemoryHub()
      return [0, 1].map(() => createMemoryBus({ hub }))
    },
  ],
  [
    'a 2-server NATS cluster',
    async () => {
      const { urls } = await (nats ??= startNatsCluster(2))
      const prefix = `h${randomBytes(4).toString('hex')}`
      return urls.map((servers) => createNatsBus({ servers, prefix, reconnectTimeWaitMs: 100 }))
    },
  ],
]

// A node holds one bus subscription per topic interest: a whole-topic listener replaces its
// per-stream subscriptions with `.*` and back. Clients on the node must not notice.
describe.each(sets)('topic subscription handover on %s', (_name, makeBuses) => {
  it('a whole-topic listener coming and going while a stream is live loses and duplicates nothing', async () => {
    const [b0, b1] = (await makeBuses()) as [Bus, Bus]
    await using s0 = await startServer(wsTransport, { bus: b0 })
    await using s1 = await startServer(wsTransport, { bus: b1 })
    await until(() => s0.srv.nodes().length === 2 && s1.srv.nodes().length === 2, 5_000, 'nodes to meet')
    const client = connect(s0.url, 'user')
    const got: number[] = []
    await client.subscribe('ticker', { symbol: 'X' }, (t) => got.push(t.price)).ready
    const users1 = s1.srv.forRole('user')
    let n = 0
    let running = true
    const pump = (async () => {
      while (running) {
        users1.publish('ticker', { price: n++ }, { symbol: 'X' })
        if (n % 4 === 0) await sleep(1)
      }
    })()
    await until(() => got.length > 20, 10_000, 'stream flowing')
    const withStream = s0.srv.stats().busSubscriptions
    let heard = 0
    for (let r = 0; r < 24; r++) {
      const off = s0.srv.forRole('user').subscribe('ticker', () => void heard++)
      // `.*` in place of the stream's own, once the bus has it: one subscription, as before.
      await until(() => s0.srv.stats().busSubscriptions === withStream, 5_000, 'handover to `.*`')
      await sleep(5)
      off()
      await until(() => s0.srv.stats().busSubscriptions === withStream, 5_000, 'handover back')
      await sleep(5)
    }
    running = false
    await pump
    await until(() => got.at(-1) === n - 1, 10_000, 'last publish')
    const from = got[0]!
    expect(got).toEqual(Array.from({ length: n - from }, (_, i) => from + i))
    expect(heard).toBeGreaterThan(0)
    expect(s0.errors).toEqual([])
    await client.close()
  })
})
