import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { RtError, defineContract, indexContract, jsonEncoder, type Frame, type Schema, type TopicDef } from '@rt/contract'
import { ContractViolation, encodeEnvelope } from '@rt/contract/internal'
import type { Connection } from '../connection.js'
import { createMemoryBus, createMemoryHub, type MemoryHub } from '../memory-bus.js'
import { MAX_KEY, streamKey, streamKeySync } from './stream-key.js'
import { TopicHub } from './topic-hub.js'

const contract = defineContract({
  shared: { serverToClient: { news: { payload: z.object({ headline: z.string() }), subscribe: true } } },
  roles: {
    user: {
      serverToClient: {
        // Transforms: the key and what listeners get are the schema's output.
        quotes: {
          payload: z.object({ price: z.number().transform((n) => Math.round(n * 100) / 100) }),
          subscribe: true,
          params: z.object({ symbol: z.string().transform((s) => s.toUpperCase()) }),
        },
      },
    },
  },
})
const { shared, roles } = indexContract(contract)
const quotes = roles.get('user')!.topics.get('quotes')!
const news = shared.topics.get('news')!
const tick = () => new Promise((r) => setImmediate(r))

type Fake = Connection & { sent: { t: string; d?: unknown; k?: string }[]; errors: { id: number; code: string; message: string }[] }
let ids = 0
function fakeConn(role = 'user'): Fake {
  const sent: Fake['sent'] = []
  const errors: Fake['errors'] = []
  return {
    id: `n.${++ids}`,
    role,
    ctx: {},
    closed: false,
    codec: 0,
    encoder: jsonEncoder,
    send: (f: Frame) => void sent.push(JSON.parse(f as string)),
    sendError: (id: number, e: RtError) => void errors.push({ id, code: e.code, message: e.message }),
    sent,
    errors,
  } as unknown as Fake
}

function node(hub: MemoryHub, nodeId: string) {
  const stats = { decodes: 0, reported: [] as unknown[] }
  const topics = new TopicHub({
    bus: createMemoryBus({ hub }),
    nodeId,
    shared,
    roles,
    encode: (f) => JSON.stringify(f),
    decode: (f) => (stats.decodes++, JSON.parse(f as string)),
    authorizer: () => undefined,
    maxSubscriptions: 10,
    maxInputDepth: 8,
    report: (e) => void stats.reported.push(e),
    // The memory bus has every subscription at once: a switch needs no grace to be safe.
    handoverGraceMs: 0,
  })
  return Object.assign(stats, { topics })
}

async function sub(n: ReturnType<typeof node>, conn: Fake, topic: string, q?: unknown, id = 1) {
  await n.topics.subscribeConn(conn, { t: 'sub', id, n: topic, ...(q === undefined ? {} : { q }) } as never)
  return conn.sent.at(-1)
}
const pubs = (c: Fake) => c.sent.filter((f) => f.t === 'pub').map((f) => f.d)

describe('streamKey', () => {
  it('answers synchronously for a synchronous schema, with the canonical key of the schema output', () => {
    const k = streamKey(quotes, { symbol: 'aapl' })
    expect(k).toEqual({ params: { symbol: 'AAPL' }, key: '{"symbol":"AAPL"}' })
    const two = { payload: z.object({}), subscribe: true, params: z.object({ a: z.number(), b: z.number() }) } as TopicDef
    expect(streamKey(two, { b: 2, a: 1 })).toEqual(streamKey(two, { a: 1, b: 2 }))
    expect(streamKey(news, undefined)).toEqual({ params: undefined, key: '' })
  })

  it('answers with a promise for an asynchronous schema; the server-side form refuses it', async () => {
    const asyncParams: Schema = { '~standard': { version: 1, vendor: 't', validate: async (v: unknown) => ({ value: v }) } }
    const def = { payload: z.object({}), subscribe: true, params: asyncParams } as TopicDef
    const k = streamKey(def, { x: 1 })
    expect(k).toBeInstanceOf(Promise)
    expect(await k).toEqual({ params: { x: 1 }, key: '{"x":1}' })
    let err: unknown
    try {
      streamKeySync(def, { x: 1 }, 'publish("t")', ContractViolation)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ContractViolation)
    expect(err).toMatchObject({ code: 'INTERNAL', message: 'publish("t"): async params schemas are not supported' })
  })

  it('refuses params a topic takes none of, too deep, failing or throwing in the schema, or too large', async () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return [(e as RtError).code, (e as RtError).message]
      }
      return 'no throw'
    }
    expect(code(() => streamKey(news, { a: 1 }))).toEqual(['BAD_REQUEST', 'This topic takes no params'])
    const deep = { payload: z.object({}), subscribe: true, params: z.any() } as TopicDef
    expect(code(() => streamKey(deep, [[[[1]]]], 3))).toEqual(['BAD_REQUEST', 'Params nested deeper than 3 levels'])
    // Past stableKey's own bound: refused even where no input depth limit applies (the server's own calls).
    let v: unknown = 1
    for (let i = 0; i < 600; i++) v = [v]
    expect(code(() => streamKeySync(deep, v, 'publish("t")'))).toEqual(['BAD_REQUEST', 'publish("t"): params nested deeper than 512 levels'])
    expect(code(() => streamKey(quotes, { symbol: 1 }))).toEqual(['BAD_REQUEST', 'Invalid params'])
    expect(code(() => streamKey(deep, 'x'.repeat(MAX_KEY)))).toEqual(['BAD_REQUEST', `Params too large (over ${MAX_KEY} characters as JSON)`])
    const boom = new TypeError('schema bug')
    const throwing = { payload: z.object({}), subscribe: true, params: { '~standard': { version: 1, vendor: 't', validate: () => { throw boom } } } } as unknown as TopicDef
    expect(() => streamKey(throwing, 1)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', cause: boom }))
  })

  it('is the one check for every caller: client sub, publish and a server listener all bound the key size', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const big = { symbol: 'x'.repeat(MAX_KEY) }
    const c = fakeConn()
    await sub(a, c, 'quotes', big)
    expect(c.errors).toEqual([{ id: 1, code: 'BAD_REQUEST', message: `Params too large (over ${MAX_KEY} characters as JSON)` }])
    expect(() => a.topics.publish('user', 'quotes', { price: 1 }, big)).toThrow(/publish\("quotes"\): params too large/)
    expect(() => a.topics.listen('user', 'quotes', big, true, () => {})).toThrow(/subscribe\("quotes"\): params too large/)
    expect(() => a.topics.listen(null, 'news', {}, true, () => {})).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    expect(a.topics.busSubscriptions).toBe(0)
  })
})

describe('TopicHub', () => {
  it('holds one bus subscription per interest: per stream, or one `.*` once a whole-topic listener exists', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const b = node(hub, 'b')
    const c1 = fakeConn()
    const c2 = fakeConn()
    expect(await sub(a, c1, 'quotes', { symbol: 'aapl' })).toEqual({ t: 'result', id: 1, d: { k: '{"symbol":"AAPL"}' } })
    await sub(a, c2, 'quotes', { symbol: 'AAPL' }) // same stream after the transform: no new subscription
    expect(a.topics.busSubscriptions).toBe(1)
    expect(hub.subscriptionCount).toBe(1)

    const heard: unknown[] = []
    const off = a.topics.listen('user', 'quotes', undefined, false, (p, q) => void heard.push([p, q]))
    // Handover: the `.*` subscription first, the per-stream one released once the bus has it.
    b.topics.publish('user', 'quotes', { price: 1 }, { symbol: 'aapl' })
    expect(a.topics.busSubscriptions).toBe(2)
    await tick()
    expect(a.topics.busSubscriptions).toBe(1)
    await sub(a, c1, 'quotes', { symbol: 'msft' }, 2) // another stream: covered by `.*`, no subscription
    expect(a.topics.busSubscriptions).toBe(1)
    expect(hub.subscriptionCount).toBe(1)
    b.topics.publish('user', 'quotes', { price: 2 }, { symbol: 'aapl' })
    b.topics.publish('user', 'quotes', { price: 3 }, { symbol: 'msft' })
    b.topics.publish('user', 'quotes', { price: 4 }, { symbol: 'ibm' }) // no client stream: the listener only
    await tick()
    // Each message once, to each subscriber, through whichever subscription served it.
    expect(pubs(c1)).toEqual([{ price: 1 }, { price: 2 }, { price: 3 }])
    expect(pubs(c2)).toEqual([{ price: 1 }, { price: 2 }])
    expect(heard).toEqual([
      [{ price: 1 }, { symbol: 'AAPL' }],
      [{ price: 2 }, { symbol: 'AAPL' }],
      [{ price: 3 }, { symbol: 'MSFT' }],
      [{ price: 4 }, { symbol: 'IBM' }],
    ])

    off() // streams subscribe on their own again, then `.*` goes
    b.topics.publish('user', 'quotes', { price: 5 }, { symbol: 'msft' })
    await tick()
    expect(a.topics.busSubscriptions).toBe(2)
    b.topics.publish('user', 'quotes', { price: 6 }, { symbol: 'msft' })
    await tick()
    expect(pubs(c1)).toEqual([{ price: 1 }, { price: 2 }, { price: 3 }, { price: 5 }, { price: 6 }])
    expect(heard).toHaveLength(4)
    expect(b.reported).toEqual([])
    expect(a.reported).toEqual([])
  })

  it('hands local listeners the validated payload, with no decode; a peer decodes and validates once', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const b = node(hub, 'b')
    const here: unknown[] = []
    const there: unknown[] = []
    a.topics.listen('user', 'quotes', { symbol: 'x' }, true, (p, q, meta) => void here.push([p, q, meta]))
    b.topics.listen('user', 'quotes', undefined, false, (p, q, meta) => void there.push([p, q, meta]))
    const c = fakeConn()
    await sub(a, c, 'quotes', { symbol: 'X' })
    await tick()
    a.topics.publish('user', 'quotes', { price: 1.234 }, { symbol: 'x' })
    // On the publishing node: at once, inside publish, the schema's output, nothing decoded.
    expect(here).toEqual([[{ price: 1.23 }, { symbol: 'X' }, { topic: 'quotes', nodeId: 'a' }]])
    expect(pubs(c)).toEqual([{ price: 1.234 }]) // clients get what was published; they validate themselves
    expect(a.decodes).toBe(0)
    await tick()
    expect(there).toEqual([[{ price: 1.23 }, { symbol: 'X' }, { topic: 'quotes', nodeId: 'a' }]])
    expect(b.decodes).toBe(1)
    // Its own echo from the bus reaches nobody on the publishing node a second time.
    expect(here).toHaveLength(1)
    expect(pubs(c)).toHaveLength(1)
    expect(a.decodes).toBe(0)
  })

  it('reports a peer message that breaks the contract instead of handing it to listeners', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const got: unknown[] = []
    a.topics.listen(null, 'news', undefined, false, (p) => void got.push(p))
    await tick()
    const rogue = createMemoryBus({ hub })
    rogue.publish('topic.shared.news.~', encodeEnvelope('z', '', JSON.stringify({ t: 'pub', n: 'news', k: '', d: { headline: 7 } })))
    await tick()
    expect(got).toEqual([])
    expect(a.reported).toEqual([expect.objectContaining({ code: 'BAD_REQUEST', message: 'Message on "news" does not match the contract' })])
  })

  it('releases every subscription on unsub, on drop and when the last listener goes', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const c = fakeConn()
    await sub(a, c, 'news')
    await sub(a, c, 'quotes', { symbol: 'a' }, 2)
    await sub(a, c, 'quotes', { symbol: 'b' }, 3)
    const off1 = a.topics.listen('user', 'quotes', { symbol: 'a' }, true, () => {})
    const off2 = a.topics.listen('user', 'quotes', { symbol: 'a' }, true, () => {})
    expect(a.topics.busSubscriptions).toBe(3)
    a.topics.unsubscribeConn(c, { t: 'unsub', n: 'news', k: '' } as never)
    expect(a.topics.busSubscriptions).toBe(2)
    a.topics.drop(c)
    expect(a.topics.busSubscriptions).toBe(1) // stream "A" is still wanted by two listeners
    off1()
    off1() // twice is once
    expect(a.topics.busSubscriptions).toBe(1)
    off2()
    expect(a.topics.busSubscriptions).toBe(0)
    const offAll = a.topics.listen('user', 'quotes', undefined, false, () => {})
    await tick()
    offAll()
    await tick()
    expect(a.topics.busSubscriptions).toBe(0)
    expect(hub.subscriptionCount).toBe(0)
  })

  it('delivers to a native fan-out channel per stream instead of a loop of sends', async () => {
    const hub = createMemoryHub()
    const calls: string[] = []
    const topics = new TopicHub({
      bus: createMemoryBus({ hub }),
      nodeId: 'a',
      shared,
      roles,
      encode: (f) => JSON.stringify(f),
      decode: (f) => JSON.parse(f as string),
      authorizer: () => undefined,
      maxSubscriptions: 10,
      maxInputDepth: 8,
      native: {
        subscribe: (m, ch) => void calls.push(`+${m.id} ${ch}`),
        unsubscribe: (m, ch) => void calls.push(`-${m.id} ${ch}`),
        publish: (ch) => void calls.push(`pub ${ch}`),
      },
      report: (e) => {
        throw e
      },
    })
    const c = fakeConn()
    await topics.subscribeConn(c, { t: 'sub', id: 1, n: 'news' } as never)
    topics.publish(null, 'news', { headline: 'h' }, undefined)
    topics.drop(c)
    expect(calls).toEqual([`+${c.id} topic.shared.news.~`, 'pub topic.shared.news.~', `-${c.id} topic.shared.news.~`])
    expect(c.sent.filter((f) => f.t === 'pub')).toEqual([])
  })
})
