import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineContract, type HistoryStore } from '@rt/contract'
import { createMemoryBus, createMemoryHistory, createMemoryHub, createServer, type Limits } from '@rt/server'
import { sleep, until, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'

const contract = defineContract({
  shared: {
    serverToClient: {
      news: { payload: z.object({ n: z.number() }), subscribe: true, history: { size: 1_000 } },
      plain: { payload: z.object({ n: z.number() }), subscribe: true },
    },
  },
  roles: {
    user: {
      serverToClient: {
        feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room: z.string() }), history: { size: 5 } },
      },
    },
  },
})

type Raw = Awaited<ReturnType<typeof rawSocket>>

/** A memory store whose reads answer `delayMs` late (as a remote store's do) and are counted per stream. */
function countingStore(inner: HistoryStore, delayMs = 0) {
  const reads = new Map<string, number>()
  const store: HistoryStore = {
    append: (stream, data, o) => inner.append(stream, data, o),
    async read(stream, o) {
      reads.set(stream, (reads.get(stream) ?? 0) + 1)
      const read = await inner.read(stream, o)
      if (delayMs > 0) await sleep(delayMs) // the answer travels back after the store looked
      return read
    },
    close: () => inner.close(),
  }
  return Object.assign(store, { reads })
}

const pubsOf = (s: Raw, n: string) => s.frames.filter((f) => f.t === 'pub' && f.n === n)
const offsets = (s: Raw, n: string) => pubsOf(s, n).map((f) => f.o as number)
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)

/** Topic history and recovery over raw sockets, on one node and on three sharing a memory bus and one store. */
export function describeHistory(name: string, transport: TransportFactory) {
  async function start(n: number, opts: { limits?: Partial<Limits>; history?: HistoryStore } = {}) {
    const hub = createMemoryHub()
    // Several nodes share one store, as they share JetStream; one node uses the server's own default.
    const store = opts.history ?? (n > 1 ? createMemoryHistory() : undefined)
    const errors: unknown[] = []
    const nodes = await Promise.all(
      range(1, n).map(async () => {
        const srv = createServer({
          contract,
          transport: transport(),
          bus: createMemoryBus({ hub }),
          ...(store && { history: store }),
          authenticate: () => ({ user: { id: 'u' } }),
          handlers: {},
          limits: { ratePerSecond: Infinity, ...opts.limits },
          onError: (e) => void errors.push(e),
          cluster: { heartbeatMs: 200, deadAfterMs: 1_000 },
        })
        const { port } = await srv.listen()
        return { srv, url: `ws://127.0.0.1:${port}` }
      }),
    )
    await until(() => nodes.every((x) => x.srv.nodes().length === n), 5_000, 'nodes to see each other')
    const sockets: Raw[] = []
    return {
      nodes,
      errors,
      /** A node's server, round robin. */
      srv: (i: number) => nodes[i % n]!.srv,
      async sock(i: number) {
        const s = await rawSocket(nodes[i % n]!.url)
        sockets.push(s)
        await s.hello('user')
        return s
      },
      async [Symbol.asyncDispose]() {
        for (const s of sockets) await s[Symbol.asyncDispose]()
        await Promise.all(nodes.map((x) => x.srv.close()))
        await store?.close() // given to the servers: theirs to use, ours to close
        expect(errors).toEqual([])
        expect(hub.subscriptionCount).toBe(0)
      },
    }
  }

  /** Sends a sub; resolves with its answer (a result or an error with the same id). */
  async function sub(s: Raw, id: number, n: string, extra: Record<string, unknown> = {}) {
    s.send({ t: 'sub', id, n, ...extra })
    return s.next((f) => (f.t === 'result' || f.t === 'error') && f.id === id)
  }

  describe(`topic history store over ${name}`, () => {
    it('uses the bus’s own store (bus.history) when none is given, and leaves closing it to its owner', async () => {
      let closed = 0
      const store = Object.assign(countingStore(createMemoryHistory()), { close: async () => void closed++ })
      const bus = Object.assign(createMemoryBus(), { history: store })
      const srv = createServer({ contract, transport: transport(), bus, authenticate: () => ({ user: { id: 'u' } }), handlers: {} })
      const { port } = await srv.listen()
      await using s = await rawSocket(`ws://127.0.0.1:${port}`)
      await s.hello('user')
      expect((await sub(s, 1, 'news')).d).toMatchObject({ r: false, o: 0 })
      expect(store.reads.get('shared.news.~')).toBe(1)
      expect(await srv.publish('news', { n: 1 })).toMatchObject({ offset: 1 })
      await srv.close()
      expect(closed).toBe(0)
    })
  })

  for (const n of [1, 3]) {
    describe(`topic history over ${name}, ${n === 1 ? 'one node' : 'three nodes on a memory bus'}`, () => {
      it('publish resolves with contiguous positions from every node; a sub without s is acked with r: false and the top', async () => {
        await using c = await start(n)
        const a = await c.sock(n - 1)
        const ack = await sub(a, 1, 'news')
        expect(ack).toEqual({ t: 'result', id: 1, d: { k: '', r: false, o: 0, e: expect.any(String) } })
        const e = ack.d.e as string
        const got = []
        for (let i = 0; i < 6; i++) got.push(await c.srv(i).publish('news', { n: i }))
        expect(got).toEqual(range(1, 6).map((offset) => ({ offset, epoch: e })))
        await until(() => pubsOf(a, 'news').length === 6)
        expect(pubsOf(a, 'news')).toEqual(range(1, 6).map((o) => ({ t: 'pub', n: 'news', k: '', d: { n: o - 1 }, o, e })))
        // Role topics too, per stream; a later sub without s starts at the top.
        expect(await c.srv(1).forRole('user').publish('feed', { text: 'x' }, { room: 'r1' })).toEqual({ offset: 1, epoch: expect.any(String) })
        expect((await sub(a, 2, 'news')).d).toEqual({ k: '', r: false, o: 6, e })
        expect((await sub(a, 3, 'feed', { q: { room: 'r1' } })).d).toMatchObject({ k: '{"room":"r1"}', r: false, o: 1 })
      })

      it('leaves plain topics as they were: no r/o/e, s ignored, publish delivers before it returns', async () => {
        await using c = await start(n)
        const a = await c.sock(0)
        expect(await sub(a, 1, 'plain', { s: { o: 3, e: 'x' } })).toEqual({ t: 'result', id: 1, d: { k: '' } })
        const heard: unknown[] = []
        const off = c.srv(0).subscribe('plain', (p) => void heard.push(p))
        const r = c.srv(0).publish('plain', { n: 1 })
        expect(heard).toEqual([{ n: 1 }]) // synchronously, before publish returned
        expect(r).toBeInstanceOf(Promise)
        expect(await r).toBeUndefined()
        off()
        expect(await a.next((f) => f.t === 'pub')).toEqual({ t: 'pub', n: 'plain', k: '', d: { n: 1 } })
        expect(() => c.srv(0).publish('news', { n: 'x' } as never)).toThrow(/does not match the contract/)
      })

      it('replays what was missed right after the ack, then live, with no gap while publishing goes on', async () => {
        // Slow reads, as a remote store's: publications land while each recovery reads, and must come from its capture.
        await using c = await start(n, { history: countingStore(createMemoryHistory(), 15) })
        let epoch = ''
        for (let i = 1; i <= 50; i++) epoch = (await c.srv(i).publish('news', { n: i })).epoch
        const N = 300
        // Two publishers on different nodes, racing the recoveries.
        const publishing = Promise.all(
          [0, 1].map(async (p) => {
            for (let i = 0; i < (N - 50) / 2; i++) {
              await c.srv(p).publish('news', { n: 0 })
              if (i % 10 === 0) await sleep(1)
            }
          }),
        )
        const clients: { s: Raw; ack: { d: { r: boolean; o: number; e: string } } }[] = []
        for (let i = 0; i < 6; i++) {
          const s = await c.sock(i)
          clients.push({ s, ack: await sub(s, 1, 'news', { s: { o: 20, e: epoch } }) })
          await sleep(3)
        }
        await publishing
        for (const { s, ack } of clients) {
          expect(ack.d).toMatchObject({ k: '', r: true, e: epoch })
          expect(ack.d.o).toBeGreaterThanOrEqual(50)
          await until(() => offsets(s, 'news').includes(N), 5_000, `offset ${N}`)
          await sleep(20)
          const got = offsets(s, 'news')
          // The replay, in order, is what follows the ack; then everything live, once.
          expect(got.slice(0, ack.d.o - 20)).toEqual(range(21, ack.d.o))
          const live = got.slice(ack.d.o - 20)
          if (n === 1) expect(live).toEqual(range(ack.d.o + 1, N))
          // Across nodes, a peer's bus copy of a publication the read already had may still arrive: only those repeat.
          else expect([...new Set(live.filter((o) => o > ack.d.o))].sort((x, y) => x - y)).toEqual(range(ack.d.o + 1, N))
          expect(live.filter((o) => o > ack.d.o)).toHaveLength(N - ack.d.o)
          expect(pubsOf(s, 'news').every((f) => f.e === epoch)).toBe(true)
        }
      })

      it('sends a publication of this node once even when the store acknowledges it after the recovery read saw it', async () => {
        const inner = createMemoryHistory()
        const slowAcks: HistoryStore = {
          ...inner,
          async append(stream, data, o) {
            const pos = await inner.append(stream, data, o)
            await sleep(30)
            return pos
          },
        }
        await using c = await start(n, { history: slowAcks })
        let epoch = ''
        for (let i = 1; i <= 3; i++) epoch = (await c.srv(0).publish('news', { n: i })).epoch
        const a = await c.sock(0)
        const fourth = c.srv(0).publish('news', { n: 4 }) // stored at once, acknowledged 30 ms later
        await sleep(5)
        expect((await sub(a, 1, 'news', { s: { o: 3, e: epoch } })).d).toEqual({ k: '', r: true, o: 4, e: epoch })
        await fourth
        await sleep(20)
        expect(offsets(a, 'news')).toEqual([4])
      })

      it('answers r: false and replays nothing for a wrong epoch, a future offset, or a position older than retained', async () => {
        await using c = await start(n)
        const cases: [(epoch: string) => unknown, boolean, number[]][] = [
          [(e) => ({ o: 5, e: `${e}x` }), false, []],
          [(e) => ({ o: 9, e }), false, []],
          [(e) => ({ o: 2, e }), false, []], // size 5: offsets 4..8 retained, 3 is gone
          [(e) => ({ o: 3, e }), true, [4, 5, 6, 7, 8]],
          [(e) => ({ o: 8, e }), true, []],
        ]
        for (const [i, [s, r, replayed]] of cases.entries()) {
          const q = { room: `r${i}` }
          let epoch = ''
          for (let j = 1; j <= 8; j++) epoch = (await c.srv(j).forRole('user').publish('feed', { text: `m${j}` }, q)).epoch
          const sock = await c.sock(i)
          expect((await sub(sock, 7, 'feed', { q, s: s(epoch) })).d).toEqual({ k: JSON.stringify(q), r, o: 8, e: epoch })
          await c.srv(i + 1).forRole('user').publish('feed', { text: 'live' }, q)
          await until(() => offsets(sock, 'feed').length === replayed.length + 1)
          await sleep(10)
          // Then live, from the top, whatever the verdict.
          expect(offsets(sock, 'feed')).toEqual([...replayed, 9])
        }
      })

      it('bounds a recovery by limits.maxRecovery', async () => {
        await using c = await start(n, { limits: { maxRecovery: 3 } })
        let epoch = ''
        for (let i = 1; i <= 5; i++) epoch = (await c.srv(i).publish('news', { n: i })).epoch
        const a = await c.sock(0)
        expect((await sub(a, 1, 'news', { s: { o: 1, e: epoch } })).d).toEqual({ k: '', r: false, o: 5, e: epoch })
        const b = await c.sock(1)
        expect((await sub(b, 1, 'news', { s: { o: 2, e: epoch } })).d).toEqual({ k: '', r: true, o: 5, e: epoch })
        await until(() => offsets(b, 'news').length === 3)
        expect(offsets(b, 'news')).toEqual([3, 4, 5])
        await sleep(20)
        expect(offsets(a, 'news')).toEqual([])
      })

      it('refuses a malformed s with BAD_REQUEST and the sub id, and survives any s (fuzzed)', async () => {
        await using c = await start(n)
        const epoch = (await c.srv(0).publish('news', { n: 1 })).epoch
        const a = await c.sock(0)
        for (const s of [null, 1, 'x', [], {}, { o: -1, e: 'e' }, { o: 1.5, e: 'e' }, { o: 2 ** 53, e: 'e' }, { o: 1 }, { o: 1, e: '' }, { o: 1, e: 'x'.repeat(65) }, { o: '1', e: 'e' }]) {
          expect(await sub(a, 9, 'news', { s })).toMatchObject({ t: 'error', id: 9, code: 'BAD_REQUEST' })
        }
        let id = 100
        const valid = (s: unknown) => {
          const p = s as { o?: unknown; e?: unknown }
          return typeof p === 'object' && p !== null && !Array.isArray(p) && Number.isSafeInteger(p.o) && (p.o as number) >= 0 && typeof p.e === 'string' && p.e.length > 0 && p.e.length <= 64
        }
        const position = fc.record({ o: fc.oneof(fc.nat(3), fc.integer(), fc.double(), fc.constant(2 ** 53)), e: fc.oneof(fc.constant(epoch), fc.string({ maxLength: 70 })) }, { requiredKeys: [] })
        await fc.assert(
          fc.asyncProperty(fc.oneof(position, fc.anything()), async (value) => {
            const s: unknown = JSON.parse(JSON.stringify({ s: value })).s // what the server gets
            const answer = await sub(a, ++id, 'news', { s })
            if (s === undefined) {
              expect(answer).toEqual({ t: 'result', id, d: { k: '', r: false, o: 1, e: epoch } })
            } else if (!valid(s)) {
              expect(answer).toMatchObject({ t: 'error', id, code: 'BAD_REQUEST' })
            } else {
              const { o, e } = s as { o: number; e: string }
              expect(answer).toEqual({ t: 'result', id, d: { k: '', r: e === epoch && o <= 1, o: 1, e: epoch } })
            }
          }),
          { numRuns: 150 },
        )
        expect(a.isClosed).toBe(false)
        // What recoveries replayed is offset 1 only, each time.
        expect(offsets(a, 'news').every((o) => o === 1)).toBe(true)
      })

      it('reads the store once per (stream, position) per node when many connections recover at once', async () => {
        const store = countingStore(createMemoryHistory(), 40)
        await using c = await start(n, { history: store })
        let epoch = ''
        for (let i = 1; i <= 30; i++) epoch = (await c.srv(i).publish('news', { n: i })).epoch
        const socks = await Promise.all(range(1, 24).map((i) => c.sock(i)))
        store.reads.clear()
        const acks = await Promise.all(socks.map((s) => sub(s, 1, 'news', { s: { o: 10, e: epoch } })))
        expect(acks.every((a) => a.d.r === true && a.d.o === 30)).toBe(true)
        expect(store.reads.get('shared.news.~') ?? [...store.reads]).toBe(n) // one read on each node
        await until(() => socks.every((s) => offsets(s, 'news').length === 20))
        for (const s of socks) expect(offsets(s, 'news')).toEqual(range(11, 30))
      })

      it('answers connections that come back one after another from one read per node until the next publication', async () => {
        const store = countingStore(createMemoryHistory())
        await using c = await start(n, { history: store })
        let epoch = ''
        for (let i = 1; i <= 10; i++) epoch = (await c.srv(i).publish('news', { n: i })).epoch
        const socks = await Promise.all(range(1, 12).map((i) => c.sock(i)))
        store.reads.clear()
        for (const s of socks) expect((await sub(s, 1, 'news', { s: { o: 4, e: epoch } })).d).toMatchObject({ r: true, o: 10 })
        expect(store.reads.get('shared.news.~')).toBe(n) // one read on each node, the rest from it
        await c.srv(0).publish('news', { n: 11 })
        await until(() => socks.every((s) => offsets(s, 'news').at(-1) === 11))
        const late = await c.sock(0)
        expect((await sub(late, 1, 'news', { s: { o: 4, e: epoch } })).d).toMatchObject({ r: true, o: 11 })
        expect(store.reads.get('shared.news.~')).toBe(n + 1) // the publication made the kept read stale
        for (const s of [...socks, late]) await until(() => offsets(s, 'news').length === 7)
        for (const s of [...socks, late]) expect(offsets(s, 'news')).toEqual(range(5, 11))
        const stats = c.nodes.map((x) => x.srv.stats().history)
        expect(stats.reduce((a, h) => a + h.recoveries, 0)).toBe(13)
        expect(stats.reduce((a, h) => a + h.recovered, 0)).toBe(13)
        expect(stats.reduce((a, h) => a + h.replayed, 0)).toBe(12 * 6 + 7)
        expect(stats.reduce((a, h) => a + h.reads, 0)).toBe(n + 1)
      })

      it('answers a sub UNAVAILABLE when the store read takes over limits.recoveryTimeoutMs, and the connection stays', async () => {
        const inner = createMemoryHistory()
        let hang = false
        const store: HistoryStore = { ...inner, read: (s, o) => (hang ? new Promise(() => {}) : inner.read(s, o)), close: () => inner.close() }
        await using c = await start(n, { history: store, limits: { recoveryTimeoutMs: 100 } })
        const { epoch } = await c.srv(0).publish('news', { n: 1 })
        const a = await c.sock(0)
        hang = true
        const err = await sub(a, 1, 'news', { s: { o: 0, e: epoch } })
        expect(err).toMatchObject({ t: 'error', id: 1, code: 'UNAVAILABLE' })
        c.errors.length = 0 // reported to onError as a store failure, as it should be
        hang = false
        expect((await sub(a, 2, 'news', { s: { o: 0, e: epoch } })).d).toMatchObject({ r: true, o: 1 })
        await until(() => offsets(a, 'news').length === 1)
        expect(a.isClosed).toBe(false)
      })

      it('re-subscribing a stream it has (a hole repair) answers a new ack and replay, and stays subscribed once', async () => {
        await using c = await start(n)
        const a = await c.sock(0)
        const { e } = (await sub(a, 1, 'news')).d
        for (let i = 1; i <= 4; i++) await c.srv(i).publish('news', { n: i })
        await until(() => offsets(a, 'news').length === 4)
        expect((await sub(a, 2, 'news', { s: { o: 1, e } })).d).toEqual({ k: '', r: true, o: 4, e })
        await c.srv(1).publish('news', { n: 5 })
        await until(() => offsets(a, 'news').length === 8)
        await sleep(20)
        expect(offsets(a, 'news')).toEqual([1, 2, 3, 4, 2, 3, 4, 5])
      })

      it('serves srv.history and forRole(r).history: newest last, limit, since, limit 0', async () => {
        await using c = await start(n)
        expect(await c.srv(0).history('news')).toEqual({ publications: [], offset: 0, epoch: expect.any(String) })
        let epoch = ''
        for (let i = 1; i <= 8; i++) epoch = (await c.srv(i).publish('news', { n: i })).epoch
        for (let i = 1; i <= 7; i++) await c.srv(i).forRole('user').publish('feed', { text: `t${i}` }, { room: 'r' })
        const srv = c.srv(1)
        const page = (from: number, to: number) => range(from, to).map((offset) => ({ offset, payload: { n: offset } }))
        expect(await srv.history('news')).toEqual({ publications: page(1, 8), offset: 8, epoch })
        expect(await srv.history('news', { limit: 3 })).toEqual({ publications: page(6, 8), offset: 8, epoch })
        expect(await srv.history('news', { limit: 0 })).toEqual({ publications: [], offset: 8, epoch })
        expect(await srv.history('news', { since: { offset: 2, epoch }, limit: 2 })).toEqual({ publications: page(3, 4), offset: 8, epoch })
        expect((await srv.history('news', { since: { offset: 2, epoch: 'other' }, limit: 2 })).publications).toEqual(page(7, 8))
        const feed = await srv.forRole('user').history('feed', { room: 'r' })
        expect(feed.publications).toEqual(range(3, 7).map((offset) => ({ offset, payload: { text: `t${offset}` } }))) // size 5
        expect(feed.offset).toBe(7)
        await expect(srv.history('news', { limit: -1 })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
        await expect(srv.history('plain' as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
        await expect(srv.forRole('user').history('feed', { room: 1 } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
      })
    })
  }
}
