import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Bus } from '@rt/contract'
import { decodeEnvelope, encodeEnvelope, fromPeers } from '@rt/contract/internal'
import { sleep, until } from '../harness.js'

/** Buses that reach each other (≥ 3), and how to release them. */
export type BusFactory = () => Promise<{ buses: Bus[]; cleanup(): Promise<void> }>

interface Received {
  subject: string
  data: Uint8Array
}

const CONVERGE_MS = 10_000
const text = (s: string) => new TextEncoder().encode(s)
const str = (d: Uint8Array) => new TextDecoder().decode(d)

/** Subscribes and records every delivery. */
function record(bus: Bus, subject: string) {
  const got: Received[] = []
  const sub = bus.subscribe(subject, (data, s) => got.push({ subject: s, data }))
  return { got, sub, texts: () => got.map((m) => str(m.data)), subjects: () => got.map((m) => m.subject) }
}

/**
 * Waits until subscriptions made on `to` so far are visible to publishers on `from`: a probe
 * subscribed after them is, and interest travels in order along every link.
 */
async function converge(from: Bus[], to: Bus[]): Promise<void> {
  const subject = `sync.${randomBytes(6).toString('hex')}`
  const seen = to.map(() => new Set<number>())
  const subs = to.map((b, i) => b.subscribe(subject, (d) => seen[i]!.add(d[0]!)))
  await until(
    async () => {
      from.forEach((b, j) => b.publish(subject, Uint8Array.of(j)))
      await sleep(20)
      return seen.every((s) => s.size === from.length)
    },
    CONVERGE_MS,
    'bus subscriptions to propagate',
  )
  for (const s of subs) s.unsubscribe()
}

/** The `Bus` contract, written once and run against every bus. */
export function describeBus(name: string, makeBuses: BusFactory) {
  const open = async () => {
    const made = await makeBuses()
    expect(made.buses.length).toBeGreaterThanOrEqual(3)
    const [a, b, c] = made.buses as [Bus, Bus, Bus]
    return { a, b, c, all: made.buses, [Symbol.asyncDispose]: made.cleanup }
  }

  describe(`bus conformance: ${name}`, () => {
    it('delivers a publish to every subscription on every bus, the publisher included, once', async () => {
      await using n = await open()
      const subs = n.all.map((bus) => record(bus, 't.hello'))
      await converge(n.all, n.all)
      n.a.publish('t.hello', text('hi'))
      n.a.publish('t.hello', text('end')) // arrives after any duplicate of the first
      await until(() => subs.every((s) => s.got.length >= 2), CONVERGE_MS, 'delivery')
      for (const s of subs) {
        expect(s.texts()).toEqual(['hi', 'end'])
        expect(s.subjects()).toEqual(['t.hello', 't.hello'])
      }
    })

    it("delivers to the publisher's own subscription", async () => {
      await using n = await open()
      const mine = record(n.b, 't.self')
      n.b.publish('t.self', text('me'))
      await until(() => mine.got.length === 1, CONVERGE_MS, 'self delivery')
      expect(mine.texts()).toEqual(['me'])
    })

    it('keeps echoes, and fromPeers (the one echo filter of @rt) drops exactly the own node\'s messages', async () => {
      await using n = await open()
      // Each bus is one node; what they publish names its origin, as every cluster message does.
      const nodes = n.all.slice(0, 3).map((bus, i) => ({ bus, id: `node${i}` }))
      const raw = nodes.map(({ bus }) => record(bus, 't.peers'))
      const peers = nodes.map(({ bus, id }) => {
        const got: string[] = []
        bus.subscribe('t.peers', fromPeers(id, decodeEnvelope, (env) => void got.push(`${env.origin}:${env.frame as string}`)))
        return got
      })
      await converge(n.all, n.all)
      for (const { bus, id } of nodes) bus.publish('t.peers', encodeEnvelope(id, '', 'hi'))
      for (const { bus, id } of nodes) bus.publish('t.peers', encodeEnvelope(id, '', 'end'))
      await until(() => raw.every((r) => r.got.length >= 6) && peers.every((p) => p.length >= 4), CONVERGE_MS, 'delivery')
      await n.a.flush()
      // The bus delivers every message, the node's own included...
      for (const r of raw) expect(r.got).toHaveLength(6)
      // ...and the filter passes each peer's, in order, and never the node's own.
      nodes.forEach(({ id }, i) => {
        const others = nodes.filter((x) => x.id !== id).map((x) => x.id)
        expect(peers[i]!.filter((m) => m.endsWith(':hi')).map((m) => m.split(':')[0]).sort()).toEqual(others)
        for (const o of others) expect(peers[i]!.filter((m) => m.startsWith(`${o}:`))).toEqual([`${o}:hi`, `${o}:end`])
        expect(peers[i]!.some((m) => m.startsWith(`${id}:`))).toBe(false)
      })
    })

    it('matches `*` against exactly one token', async () => {
      await using n = await open()
      const star = record(n.b, 't.*.end')
      await converge([n.a], [n.b])
      for (const s of ['t.a.end', 't.a.b.end', 't.end', 't.b.end', 't.a.end.x', 't.z.end']) n.a.publish(s, text(s))
      await until(() => star.got.length >= 3, CONVERGE_MS, 'wildcard delivery')
      expect(star.subjects()).toEqual(['t.a.end', 't.b.end', 't.z.end'])
      expect(star.texts()).toEqual(star.subjects())
    })

    it('matches `>` against one or more trailing tokens', async () => {
      await using n = await open()
      const rest = record(n.c, 't.x.>')
      await converge([n.a], [n.c])
      for (const s of ['t.x', 't.x.a', 't.y.a', 't.x.a.b.c', 't.xx.a', 't.x.end']) n.a.publish(s, text(s))
      await until(() => rest.got.length >= 3, CONVERGE_MS, 'wildcard delivery')
      expect(rest.subjects()).toEqual(['t.x.a', 't.x.a.b.c', 't.x.end'])
    })

    it('stops delivery on unsubscribe (idempotent), leaving other subscriptions alone', async () => {
      await using n = await open()
      const gone = record(n.b, 't.unsub')
      const kept = record(n.b, 't.unsub') // same bus: a marker for what `gone` would have had
      await converge([n.a], [n.b])
      n.a.publish('t.unsub', text('one'))
      await until(() => gone.got.length === 1 && kept.got.length === 1, CONVERGE_MS, 'first delivery')
      gone.sub.unsubscribe()
      gone.sub.unsubscribe()
      n.a.publish('t.unsub', text('two'))
      await n.a.flush()
      await until(() => kept.got.length === 2, CONVERGE_MS, 'second delivery')
      await sleep(50)
      expect(gone.texts()).toEqual(['one'])
      expect(kept.texts()).toEqual(['one', 'two'])
    })

    it('treats the same handler subscribed twice as two subscriptions', async () => {
      await using n = await open()
      const got: string[] = []
      const handler = (d: Uint8Array) => got.push(str(d))
      const first = n.b.subscribe('t.twice', handler)
      n.b.subscribe('t.twice', handler)
      const marker = record(n.b, 't.twice')
      await converge([n.a], [n.b])
      n.a.publish('t.twice', text('x'))
      await until(() => marker.got.length === 1, CONVERGE_MS, 'delivery')
      expect(got).toEqual(['x', 'x'])
      first.unsubscribe()
      n.a.publish('t.twice', text('y'))
      await until(() => marker.got.length === 2, CONVERGE_MS, 'delivery')
      expect(got).toEqual(['x', 'x', 'y'])
    })

    it('keeps each publisher in order (2 000 messages each from two publishers)', async () => {
      const count = 2_000
      await using n = await open()
      const subs = n.all.map((bus) => record(bus, 't.order'))
      await converge([n.a, n.c], n.all)
      for (let i = 0; i < count; i++) {
        // payload: [publisher, seq (big-endian u32)]
        for (const [p, bus] of [n.a, n.c].entries()) {
          const m = new Uint8Array(5)
          m[0] = p
          new DataView(m.buffer).setUint32(1, i)
          bus.publish('t.order', m)
        }
      }
      await until(() => subs.every((s) => s.got.length >= 2 * count), CONVERGE_MS, 'all messages')
      const expected = Array.from({ length: count }, (_, i) => i)
      for (const s of subs) {
        for (const p of [0, 1]) {
          const seqs = s.got.filter((m) => m.data[0] === p).map((m) => new DataView(m.data.buffer, m.data.byteOffset).getUint32(1))
          expect(seqs).toEqual(expected)
        }
      }
    })

    it('carries payloads from 0 bytes to 1 MiB - 1 KiB intact', async () => {
      await using n = await open()
      const sizes = [0, 1, 2, 255, 4_096, 65_536, 1_048_576 - 1_024]
      const sent = sizes.map((size) => new Uint8Array(randomBytes(size)))
      const far = record(n.b, 't.bytes')
      const self = record(n.a, 't.bytes')
      await converge([n.a], [n.b])
      for (const m of sent) n.a.publish('t.bytes', m)
      await until(() => far.got.length >= sizes.length && self.got.length >= sizes.length, CONVERGE_MS, 'payloads')
      for (const got of [far.got, self.got]) {
        expect(got.map((m) => m.data.byteLength)).toEqual(sizes)
        got.forEach((m, i) => expect(Buffer.from(m.data).equals(Buffer.from(sent[i]!)), `payload of ${sizes[i]} bytes`).toBe(true))
      }
    })

    it('lets the publisher reuse its buffer as soon as publish() returns', async () => {
      await using n = await open()
      const got = record(n.b, 't.reuse')
      await converge([n.a], [n.b])
      const u8 = text('aaaa')
      n.a.publish('t.reuse', u8)
      u8.fill(0x62) // 'bbbb'
      const buf = Buffer.from('cccc') // Buffer#slice is a view, not a copy: a classic trap
      n.a.publish('t.reuse', buf)
      buf.fill('d')
      await until(() => got.got.length >= 2, CONVERGE_MS, 'delivery')
      expect(got.texts()).toEqual(['aaaa', 'cccc'])
    })

    it('keeps delivering to a subscription whose handler throws', async () => {
      await using n = await open()
      let thrown = 0
      n.b.subscribe('t.throw', () => {
        thrown++
        throw new Error('handler bug (expected in this test)')
      })
      const ok = record(n.b, 't.throw')
      await converge([n.a], [n.b])
      for (const s of ['1', '2', '3']) n.a.publish('t.throw', text(s))
      await until(() => ok.got.length >= 3, CONVERGE_MS, 'delivery after throws')
      expect(ok.texts()).toEqual(['1', '2', '3'])
      expect(thrown).toBe(3)
      n.a.publish('t.throw', text('4'))
      await until(() => ok.got.length >= 4, CONVERGE_MS, 'later delivery')
      expect(thrown).toBe(4)
    })

    it('flushes pending publishes on close()', async () => {
      await using n = await open()
      const got = record(n.b, 't.last')
      await converge([n.c], [n.b])
      for (let i = 0; i < 100; i++) n.c.publish('t.last', text(String(i)))
      await n.c.close()
      await until(() => got.got.length >= 100, CONVERGE_MS, 'publishes made before close')
      expect(got.texts()).toEqual(Array.from({ length: 100 }, (_, i) => String(i)))
    })

    it('close() is idempotent and a closed bus gets nothing more', async () => {
      await using n = await open()
      const closing = record(n.c, 't.close')
      const open_ = record(n.b, 't.close')
      await converge([n.a], [n.b, n.c])
      await Promise.all([n.c.close(), n.c.close()])
      await n.c.close()
      if (n.c.status !== undefined) expect(n.c.status).toBe('closed')
      n.a.publish('t.close', text('after'))
      await until(() => open_.got.length === 1, CONVERGE_MS, 'delivery to the open bus')
      await sleep(50)
      expect(closing.got).toEqual([])
    })

    it('flush() resolves, before and after close()', async () => {
      await using n = await open()
      n.a.publish('t.flush', text('x'))
      await expect(Promise.all(n.all.map((b) => b.flush()))).resolves.toBeDefined()
      await n.b.close()
      await expect(n.b.flush()).resolves.toBeUndefined()
    })
  })
}
