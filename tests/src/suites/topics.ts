import { describe, expect, it } from 'vitest'
import { RtError } from '@rt/contract'
import { countingBus } from '../counting-bus.js'
import { connect, startServer, until, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'
import type { BusSet } from './cluster.js'

/** Topics and the cluster bus, on one node and on three, written once for every bus. */
export function describeTopics(name: string, makeBuses: BusSet, transport: TransportFactory) {
  async function cluster(n = 3, extra: Parameters<typeof startServer>[1] = {}) {
    const { buses, cleanup } = await makeBuses()
    const counted = buses.slice(0, n).map((b) => countingBus(b))
    const nodes = await Promise.all(counted.map((bus) => startServer(transport, { bus, ...extra })))
    const baseline = nodes.map((x) => x.srv.stats().busSubscriptions)
    await until(() => nodes.every((x) => x.srv.nodes().length === n), 5_000, 'nodes to see each other')
    const clients: { close(): Promise<void> }[] = []
    return {
      nodes,
      buses: counted,
      join<R extends 'user' | 'agent'>(i: number, role: R, name = 'ann', url?: () => string) {
        const c = connect(url ?? nodes[i]!.url, role, { auth: { name } })
        clients.push(c)
        return c
      },
      async [Symbol.asyncDispose]() {
        await Promise.all(clients.map((c) => c.close()))
        // No subscription leaks: every node is back to the subscriptions it started with.
        await until(() => nodes.every((x, i) => x.srv.stats().busSubscriptions <= baseline[i]!), 5_000, 'topic subscriptions released')
        await Promise.all(nodes.map((x) => x.srv.close()))
        await cleanup()
      },
    }
  }

  describe(`topics over ${name}`, () => {
    it('subscribe is acknowledged, receives publishes, and unsubscribe stops them', async () => {
      await using c = await cluster(1)
      const client = c.join(0, 'user')
      const got: string[] = []
      const unsubscribe = client.subscribe('news', (n) => got.push(n.headline))
      await unsubscribe.ready
      c.nodes[0]!.srv.publish('news', { headline: 'one' })
      await until(() => got.length === 1)
      unsubscribe()
      await client.call.ping({}) // the unsub is processed before this answer
      c.nodes[0]!.srv.publish('news', { headline: 'two' })
      await client.call.ping({})
      expect(got).toEqual(['one'])
    })

    it('keeps params streams apart and validates params', async () => {
      await using c = await cluster(1)
      const client = c.join(0, 'user')
      const aapl: number[] = []
      const msft: number[] = []
      await client.subscribe('ticker', { symbol: 'AAPL' }, (t) => aapl.push(t.price)).ready
      await client.subscribe('ticker', { symbol: 'MSFT' }, (t) => msft.push(t.price)).ready
      const srv = c.nodes[0]!.srv
      srv.forRole('user').publish('ticker', { price: 1 }, { symbol: 'AAPL' })
      srv.forRole('user').publish('ticker', { price: 2 }, { symbol: 'MSFT' })
      srv.forRole('user').publish('ticker', { price: 3 }, { symbol: 'GOOG' })
      srv.forRole('user').publish('ticker', { price: 4 }, { symbol: 'AAPL' })
      await until(() => aapl.length === 2 && msft.length === 1)
      await client.call.ping({})
      expect([aapl, msft]).toEqual([[1, 4], [2]])
      const bad = client.subscribe('ticker', { symbol: 42 } as never, () => {})
      const err = (await bad.ready.catch((e: unknown) => e)) as RtError
      expect(err.code).toBe('BAD_REQUEST')
      expect((err.data as { issues: { path: string[] }[] }).issues[0]!.path).toEqual(['symbol'])
      expect(() => srv.publish('news', { headline: 1 } as never)).toThrow(/does not match the contract/)
      expect(() => srv.forRole('user').publish('ticker', { price: 1 }, { symbol: 1 } as never)).toThrow(/invalid params/)
    })

    it('keeps send order between events and topic messages to one connection', async () => {
      await using c = await cluster(1)
      const client = c.join(0, 'user')
      const seen: string[] = []
      client.on('alert', (a) => seen.push(a.text))
      await client.subscribe('news', (n) => seen.push(n.headline)).ready
      const conn = [...c.nodes[0]!.srv.connections.values()][0]!
      const expected: string[] = []
      for (let i = 0; i < 50; i++) {
        const text = String(i)
        expected.push(text)
        if (i % 2) c.nodes[0]!.srv.publish('news', { headline: text })
        else c.nodes[0]!.srv.forRole('user').toConn(conn.id).emit('alert', { level: 'info', text })
      }
      await until(() => seen.length === 50, 5_000, 'all pushes')
      expect(seen).toEqual(expected)
    })

    it('survives unsubscribe-then-subscribe before the server answered', async () => {
      await using c = await cluster(1)
      const client = c.join(0, 'user')
      await client.ready()
      const got: string[] = []
      const first = client.subscribe('news', () => got.push('first'))
      first()
      const second = client.subscribe('news', (n) => got.push(n.headline))
      await second.ready
      await client.call.ping({})
      c.nodes[0]!.srv.publish('news', { headline: 'still here' })
      await until(() => got.length === 1, 5_000, 'delivery to the revived subscription')
      expect(got).toEqual(['still here'])
    })

    it('params the schema transforms share one stream; payloads arrive as the schema outputs them, to clients and server listeners', async () => {
      await using c = await cluster(1)
      const client = c.join(0, 'user')
      const lower: number[] = []
      const upper: number[] = []
      const heard: unknown[] = []
      const offListener = c.nodes[0]!.srv.forRole('user').subscribe('quotes', (q, params) => heard.push([q.price, params.symbol]))
      const stopLower = client.subscribe('quotes', { symbol: 'aapl' }, (q) => lower.push(q.price))
      await stopLower.ready
      await client.subscribe('quotes', { symbol: 'AAPL' }, (q) => upper.push(q.price)).ready
      c.nodes[0]!.srv.forRole('user').publish('quotes', { price: 1.2345 }, { symbol: 'Aapl' })
      await until(() => lower.length === 1 && upper.length === 1 && heard.length === 1, 5_000, 'both subscriptions')
      expect([lower, upper, heard]).toEqual([[1.23], [1.23], [[1.23, 'AAPL']]])
      // Leaving one of the two keeps the shared stream for the other.
      stopLower()
      await client.call.ping({})
      c.nodes[0]!.srv.forRole('user').publish('quotes', { price: 2 }, { symbol: 'aapl' })
      await until(() => upper.length === 2, 5_000, 'the other subscription still receives')
      expect(lower).toEqual([1.23])
      offListener()
    })

    it('gates subscriptions with authorize (sync, async, and a thrown RtError)', async () => {
      const seen: unknown[] = []
      await using c = await cluster(1, {
        topics: {
          user: {
            ticker: {
              authorize: async (params, ctx, conn) => {
                seen.push([params.symbol, ctx.user.id, conn.role])
                if (params.symbol === 'HALT') throw new RtError('UNAVAILABLE', 'Trading halted')
                return params.symbol !== 'SECRET'
              },
            },
          },
          shared: { news: { authorize: (_p, ctx) => ctx.user.id !== 'banned' } },
        },
      })
      const client = c.join(0, 'user', 'ann')
      await client.subscribe('ticker', { symbol: 'AAPL' }, () => {}).ready
      const errors: RtError[] = []
      const denied = client.subscribe('ticker', { symbol: 'SECRET' }, () => {}, { onError: (e) => errors.push(e) })
      await expect(denied.ready).rejects.toMatchObject({ code: 'FORBIDDEN' })
      expect(errors.map((e) => e.code)).toEqual(['FORBIDDEN'])
      await expect(client.subscribe('ticker', { symbol: 'HALT' }, () => {}).ready).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'Trading halted' })
      expect(seen).toEqual([['AAPL', 'ann', 'user'], ['SECRET', 'ann', 'user'], ['HALT', 'ann', 'user']])
      const banned = c.join(0, 'agent', 'banned')
      await expect(banned.subscribe('news', () => {}).ready).rejects.toMatchObject({ code: 'FORBIDDEN' })
      await c.join(0, 'agent', 'ok').subscribe('news', () => {}).ready
    })

    it("never lets a role subscribe to another role's topic", async () => {
      await using c = await cluster(1)
      const agent = c.join(0, 'agent')
      expect(() => (agent.subscribe as (t: string, p: unknown, cb: () => void) => unknown)('ticker', { symbol: 'A' }, () => {})).toThrow(RtError)
      await using raw = await rawSocket(c.nodes[0]!.url)
      await raw.hello('agent')
      raw.send({ t: 'sub', id: 1, n: 'ticker', q: { symbol: 'A' } })
      expect(await raw.next((f) => f.id === 1)).toMatchObject({ t: 'error', code: 'NOT_FOUND' })
      c.nodes[0]!.srv.forRole('user').publish('ticker', { price: 1 }, { symbol: 'A' })
      raw.send({ t: 'call', id: 2, p: 'ping', d: {} })
      await raw.next((f) => f.id === 2)
      expect(raw.frames.filter((f) => f.t === 'pub')).toEqual([])
    })

    it('limits subscriptions per connection', async () => {
      await using c = await cluster(1, { limits: { maxSubscriptions: 2 } })
      const client = c.join(0, 'user')
      await client.subscribe('ticker', { symbol: 'A' }, () => {}).ready
      await client.subscribe('ticker', { symbol: 'B' }, () => {}).ready
      await expect(client.subscribe('ticker', { symbol: 'C' }, () => {}).ready).rejects.toMatchObject({ code: 'RATE_LIMITED' })
    })

    it('a publish on any node reaches subscribers on every node; nodes without subscribers get no traffic', async () => {
      await using c = await cluster()
      const a = c.join(1, 'user', 'a')
      const b = c.join(2, 'user', 'b')
      const got: string[] = []
      await a.subscribe('ticker', { symbol: 'X' }, (t) => got.push(`a${t.price}`)).ready
      await b.subscribe('ticker', { symbol: 'X' }, (t) => got.push(`b${t.price}`)).ready
      await a.subscribe('news', (n) => got.push(`a:${n.headline}`)).ready
      // Bus interest reaches other NATS servers asynchronously: warm up with probes first.
      await until(() => (c.nodes[0]!.srv.forRole('user').publish('ticker', { price: 0 }, { symbol: 'X' }), got.includes('a0') && got.includes('b0')), 5_000, 'warm ticker')
      await until(() => (c.nodes[2]!.srv.publish('news', { headline: 'probe' }), got.includes('a:probe')), 5_000, 'warm news')
      await until(() => got.length > 0 && (got.splice(0), true))
      c.nodes[0]!.srv.forRole('user').publish('ticker', { price: 1 }, { symbol: 'X' })
      c.nodes[2]!.srv.publish('news', { headline: 'h' })
      await until(() => got.filter((g) => /^(a1|b1|a:h)$/.test(g)).length === 3, 5_000, 'cluster deliveries')
      await c.buses[0]!.flush()
      await new Promise((r) => setTimeout(r, 50))
      expect(got.filter((g) => !/[0]$|probe$/.test(g)).sort()).toEqual(['a1', 'a:h', 'b1'])
      // Node 0 has no subscriber: it publishes, but receives nothing for these topics.
      expect(c.buses[0]!.receivedMatching('topic.')).toBe(0)
      // Node 2 has no news subscriber: it received only the ticker stream.
      expect([...c.buses[2]!.received.keys()].filter((s) => s.startsWith('topic.'))).toEqual([[...c.buses[1]!.received.keys()].find((s) => s.includes('ticker'))])
    })

    it('server-side srv.subscribe receives the stream on any node, with params and meta', async () => {
      await using c = await cluster()
      const all: [number, string, string][] = []
      const off = c.nodes[2]!.srv.forRole('user').subscribe('ticker', (t, params, meta) => void all.push([t.price, params.symbol, meta.nodeId]))
      const one: [number, string][] = []
      const offOne = c.nodes[1]!.srv.forRole('user').subscribe('ticker', { symbol: 'B' }, (t, _p, meta) => void one.push([t.price, meta.nodeId]))
      const news: string[] = []
      const offNews = c.nodes[0]!.srv.subscribe('news', (n) => void news.push(n.headline))
      // Bus interest reaches other NATS servers asynchronously: warm every publisher→listener path with probes.
      const ids = c.nodes.map((n) => n.srv.nodeId)
      await until(
        () => {
          for (const n of c.nodes) n.srv.forRole('user').publish('ticker', { price: 0 }, { symbol: 'B' })
          return ids.every((id) => all.some((g) => g[2] === id) && one.some((g) => g[1] === id))
        },
        5_000,
        'warm listeners',
      )
      await until(() => (all.splice(0), one.splice(0), true))
      c.nodes[0]!.srv.forRole('user').publish('ticker', { price: 1 }, { symbol: 'A' })
      c.nodes[1]!.srv.forRole('user').publish('ticker', { price: 2 }, { symbol: 'B' })
      c.nodes[0]!.srv.publish('news', { headline: 'local too' })
      const real = () => all.filter((g) => g[0] !== 0)
      await until(() => real().length === 2 && one.some((g) => g[0] === 2) && news.length === 1, 5_000, 'server listeners')
      await new Promise((r) => setTimeout(r, 50))
      // Two publishers: no order between them, so compare as sets.
      expect(real().sort((x, y) => x[0] - y[0])).toEqual([
        [1, 'A', ids[0]],
        [2, 'B', ids[1]],
      ])
      expect(one.filter((g) => g[0] !== 0)).toEqual([[2, ids[1]]])
      expect(news).toEqual(['local too'])
      off()
      offOne()
      offNews()
    })

    it('re-subscribes after a server restart', async () => {
      const { buses, cleanup } = await makeBuses()
      const s1 = await startServer(transport, { bus: buses[0]! })
      await using client = connect(s1.url, 'user')
      const got: number[] = []
      await client.subscribe('ticker', { symbol: 'R' }, (t) => got.push(t.price)).ready
      const first = client.connId
      await s1.srv.close()
      await using s2 = await startServer(transport, { bus: buses[1]!, port: s1.port })
      await until(() => client.state === 'open' && client.connId !== first, 10_000, 'reconnect')
      await until(() => s2.srv.stats().busSubscriptions > 0 && (s2.srv.forRole('user').publish('ticker', { price: 7 }, { symbol: 'R' }), got.length > 0), 5_000, 're-subscribed stream')
      expect(got[0]).toBe(7)
      await client.close()
      await s2.srv.close()
      await cleanup()
    })

    it("re-subscribes on another node when the client's node goes away", async () => {
      await using c = await cluster()
      let target = 1
      const client = c.join(1, 'user', 'mover', () => c.nodes[target]!.url)
      const got: string[] = []
      await client.subscribe('news', (n) => got.push(n.headline)).ready
      await until(() => (c.nodes[0]!.srv.publish('news', { headline: 'before' }), got.length > 0), 5_000, 'stream on node 1')
      target = 2
      await c.nodes[1]!.srv.close()
      await until(() => client.state === 'open' && client.nodeId === c.nodes[2]!.srv.nodeId, 10_000, 'move to node 2')
      await until(() => (c.nodes[0]!.srv.publish('news', { headline: 'after' }), got.includes('after')), 5_000, 'stream on node 2')
      expect(got[0]).toBe('before')
    })
  })
}
