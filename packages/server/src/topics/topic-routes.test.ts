import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Bus, BusSubscription, Frame } from '@rt/contract'
import { encodeEnvelope } from '@rt/contract/internal'
import type { Connection } from '../connection.js'
import { subjects } from '../cluster/subjects.js'
import { TopicRoutes } from './topic-routes.js'

type Handler = (data: Uint8Array, subject: string) => void
type Sub = { subject: string; handler: Handler }
type Item = { sub: Sub; data: Uint8Array; subject: string } | { pong: () => void }

/**
 * A bus as one NATS connection behaves. The server has a new subscription once it reads it,
 * which is before it answers the flush sent after it (here: at the answer). A publish puts one
 * copy per subscription the server has on the link, in either order. The answer to a flush can
 * land between the two copies of a message the server was still writing (`split`), or before
 * every copy of one it had matched before it had the new subscription (`late`). The node reads
 * the link a piece at a time, and runs what a resolved flush starts between pieces. A
 * subscription dropped on this side gets nothing more, copies already on the link included.
 */
class Link implements Bus {
  private readonly subs = new Set<Sub>()
  private readonly known = new Set<Sub>()
  private readonly queue: Item[] = []
  private pings: (() => void)[] = []
  private held: Item[] = []
  /** Copies of the next publish go newest subscription first. */
  newestFirst = false
  /** The next publish is still being written when the server answers the flushes. */
  split = false
  /** The next publish is matched now and written after the server's next answer. */
  late = false

  publish(subject: string, data: Uint8Array): void {
    this.release()
    const matching = [...this.known].filter((s) => matches(s.subject, subject))
    const copies = (this.newestFirst ? matching.reverse() : matching).map((sub) => ({ sub, data, subject }))
    const now = this.late ? 0 : this.split ? 1 : copies.length
    this.queue.push(...copies.slice(0, now))
    this.held = copies.slice(now)
  }
  subscribe(subject: string, handler: Handler): BusSubscription {
    const sub: Sub = { subject, handler }
    this.subs.add(sub)
    return {
      unsubscribe: () => {
        this.subs.delete(sub)
        this.known.delete(sub)
      },
    }
  }
  flush(): Promise<void> {
    return new Promise((r) => this.pings.push(r))
  }
  async close(): Promise<void> {}

  /** The server reads the subscriptions made since it last did. */
  register(): void {
    for (const sub of this.subs) this.known.add(sub)
  }
  /** The server reads the new subscriptions, then answers every flush asked so far. */
  answer(): void {
    this.register()
    for (const pong of this.pings) this.queue.push({ pong })
    this.pings = []
    this.release()
  }
  private release(): void {
    this.queue.push(...this.held)
    this.held = []
  }
  /** Reads up to `n` items off the link as one piece. */
  async read(n = Infinity): Promise<void> {
    while (n-- > 0 && this.queue.length > 0) {
      const item = this.queue.shift()!
      if ('pong' in item) item.pong()
      else if (this.subs.has(item.sub)) item.sub.handler(item.data, item.subject)
    }
    await new Promise((r) => setImmediate(r))
  }
  /** Everything written, answered and read. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.pings.length > 0 || this.held.length > 0) {
      this.answer()
      await this.read()
    }
  }
  get subscriptions(): number {
    return this.subs.size
  }
}

/** Polls `ok` every 5 ms for up to 2 s. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let t = 0; t < 400 && !ok(); t++) await new Promise((r) => setTimeout(r, 5))
  if (!ok()) throw new Error(`timed out waiting for ${what}`)
}

const matches = (pattern: string, subject: string) => {
  const p = pattern.split('.')
  const s = subject.split('.')
  return p.length === s.length && p.every((t, i) => t === '*' || t === s[i])
}

const payload = z.object({ n: z.number() })
const KEY = '{"symbol":"X"}'
const subject = subjects.topic('user', 'ticker', KEY)

/** A node's routes on the link; the switch's grace and wait are 0 and 1 s unless given. */
function setup(handoverGraceMs = 0, handoverWaitMs = 1_000) {
  const bus = new Link()
  const reported: unknown[] = []
  const routes = new TopicRoutes({ bus, nodeId: 'here', decode: (f: Frame) => JSON.parse(f as string), report: (e) => void reported.push(e), handoverGraceMs, handoverWaitMs })
  const got: number[] = []
  const conn = { send: (f: Frame) => void got.push((JSON.parse(f as string) as { d: { n: number } }).d.n) } as unknown as Connection
  routes.stream('user', 'ticker', payload, KEY).conns.add(conn)
  bus.register()
  const heard: number[] = []
  const listenAll = () => routes.listenAll('user', 'ticker', payload, (p) => void heard.push((p as { n: number }).n))
  const seqs = new Map<string, number>()
  /** A peer's publish, numbered as a node numbers its own; `seq: false` as a peer that predates it. */
  const publish = (origin: string, n: number, seq = true) => {
    const next = (seqs.get(origin) ?? 1_000) + 1
    seqs.set(origin, next)
    bus.publish(subject, encodeEnvelope(origin, KEY, JSON.stringify({ t: 'pub', n: 'ticker', k: KEY, d: { n } }), undefined, seq ? next : undefined))
  }
  /**
   * A publish the flush's answer falls between: its first copy, the answer, its second copy,
   * with the node's read (and what the answer starts) ending after the answer.
   */
  const publishAcrossAnswer = async (origin: string, n: number) => {
    bus.split = true
    publish(origin, n)
    bus.answer()
    await bus.read(2)
    await bus.drain()
    bus.split = false
  }
  /**
   * A publish the server matched before it had the new subscription and wrote after its answer
   * to the flush, read in two pieces: the answer, then the copies.
   */
  const publishAfterAnswer = async (origin: string, n: number) => {
    bus.late = true
    publish(origin, n)
    bus.late = false
    bus.answer()
    await bus.read(1) // the answer: the flush resolves here
    await bus.read()
  }
  return { bus, got, heard, listenAll, publish, publishAcrossAnswer, publishAfterAnswer, reported }
}

describe('TopicRoutes: switching a stream between its own subscription and `.*`', () => {
  it('loses nothing when the flush is answered between the two copies of a message, new copy first', async () => {
    const { bus, got, listenAll, publish, publishAcrossAnswer } = setup()
    publish('b', 1)
    await bus.drain()
    const off = listenAll()
    bus.newestFirst = true
    // The `.*` copy, the answer to the flush, then the stream's own copy: the node drops the
    // stream's own subscription between the two.
    await publishAcrossAnswer('b', 2)
    publish('b', 3)
    await bus.drain()
    expect(got).toEqual([1, 2, 3])
    off() // and back: the stream's own copy is the new one now
    await publishAcrossAnswer('b', 4)
    publish('b', 5)
    await bus.drain()
    expect(got).toEqual([1, 2, 3, 4, 5])
    expect(bus.subscriptions).toBe(1)
  })

  it('delivers nothing twice when the flush is answered between the copies, old copy first', async () => {
    const { bus, got, heard, listenAll, publish, publishAcrossAnswer } = setup()
    const off = listenAll()
    bus.register()
    await publishAcrossAnswer('b', 1) // the stream's own copy, the answer, then the `.*` copy
    off()
    bus.register()
    await publishAcrossAnswer('b', 2) // now the `.*` copy is the old one
    publish('b', 3)
    await bus.drain()
    expect(got).toEqual([1, 2, 3])
    expect(heard).toEqual([1])
  })

  it('keeps the old subscription past the flush: a message the server matched before it had the new one comes after the answer', async () => {
    const { bus, got, listenAll, publish, publishAfterAnswer } = setup(20)
    const settled = () => until(() => bus.subscriptions === 1, 'the switch to end')
    publish('b', 1)
    await bus.drain()
    const off = listenAll()
    await publishAfterAnswer('b', 2) // the stream's own copy alone, read within the grace
    publish('b', 3) // both copies: `.*` has brought a message of b's, the switch can end
    await bus.drain()
    await settled()
    expect(got).toEqual([1, 2, 3])
    off() // and back
    await publishAfterAnswer('b', 4)
    publish('b', 5)
    await bus.drain()
    await settled()
    expect(got).toEqual([1, 2, 3, 4, 5])
  })

  it('ends a switch whose peer fell silent after its wait, and delivers that peer once when it speaks again', async () => {
    const { bus, got, listenAll, publish } = setup(0, 30)
    listenAll()
    publish('b', 1) // the stream's own subscription alone brings it: b is not heard on `.*` yet
    await bus.drain()
    expect(bus.subscriptions).toBe(2)
    await until(() => bus.subscriptions === 1, 'the wait to end the switch')
    publish('b', 2)
    await bus.drain()
    expect(got).toEqual([1, 2])
  })

  it('serves a peer that predates `seq` from the subscription in use, as before', async () => {
    const { bus, got, listenAll, publish } = setup()
    publish('old', 1, false)
    await bus.drain()
    listenAll()
    publish('old', 2, false) // on both subscriptions: the stream's own counts until the switch
    await bus.drain()
    publish('old', 3, false)
    await bus.drain()
    expect(got).toEqual([1, 2, 3])
  })

  it('delivers every message once, in order, however the link is read and listeners come and go (property)', async () => {
    type Step =
      | { op: 'publish'; origin: string; newestFirst: boolean; split: boolean }
      | { op: 'read'; n: number }
      | { op: 'answer' }
      | { op: 'register' }
      | { op: 'listen' }
      | { op: 'unlisten' }
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ op: fc.constant('publish' as const), origin: fc.constantFrom('b', 'c'), newestFirst: fc.boolean(), split: fc.boolean() }),
      fc.record({ op: fc.constant('read' as const), n: fc.integer({ min: 1, max: 3 }) }),
      fc.constant({ op: 'answer' as const }),
      fc.constant({ op: 'register' as const }),
      fc.constant({ op: 'listen' as const }),
      fc.constant({ op: 'unlisten' as const }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const { bus, got, listenAll, publish, reported } = setup()
        const offs: (() => void)[] = []
        const sent: number[] = []
        for (const s of steps) {
          if (s.op === 'publish') {
            bus.newestFirst = s.newestFirst
            bus.split = s.split
            publish(s.origin, sent.length)
            sent.push(sent.length)
          } else if (s.op === 'read') await bus.read(s.n)
          else if (s.op === 'answer') bus.answer()
          else if (s.op === 'register') bus.register()
          else if (s.op === 'listen') offs.push(listenAll())
          else offs.pop()?.()
        }
        await bus.drain()
        // A switch ends once each peer heard since it began is heard on the staying subscription.
        for (const origin of ['b', 'c']) {
          publish(origin, sent.length)
          sent.push(sent.length)
        }
        await bus.drain()
        expect(got).toEqual(sent)
        expect(reported).toEqual([])
        // Settled: one subscription, the stream's own or `.*`.
        expect(bus.subscriptions).toBe(1)
      }),
      { numRuns: 500 },
    )
  })
})
