import { describe, expect, it } from 'vitest'
import type { HistoryRead, HistoryStore, StreamPosition } from '@rt/contract'
import { createMemoryHistory } from '../history/memory-history.js'
import { checkSince, TopicHistory, type ReadCache } from './topic-history.js'
import type { Captured } from './topic-routes.js'

const h = { size: 10 }
const tick = () => new Promise((r) => setTimeout(r, 5))

function history(store: HistoryStore, maxRecovery = 100, recoveryTimeoutMs = 5_000) {
  return new TopicHistory({ store: () => store, encode: (f) => JSON.stringify(f), flush: async () => {}, maxRecovery, recoveryTimeoutMs })
}

/** A stream's read cache, as the stream's route holds it: `frame()` is what a frame reaching the stream does to it. */
const streamCache = (): ReadCache & { frame(): void } => ({
  recent: undefined,
  frame() {
    this.recent = undefined
  },
})

/** A memory store that counts its reads. */
function counted(inner = createMemoryHistory()) {
  const reads: number[] = []
  const store: HistoryStore = { ...inner, read: (s, o) => (reads.push(o.after ?? -1), inner.read(s, o)) }
  return { store, reads }
}

describe('checkSince', () => {
  it('takes an absent s or { o: safe integer >= 0, e: 1-64 characters }, and refuses anything else with BAD_REQUEST', () => {
    expect(checkSince(undefined)).toBeUndefined()
    expect(checkSince({ o: 0, e: 'x', extra: 1 })).toEqual({ o: 0, e: 'x' })
    expect(checkSince({ o: 2 ** 53 - 1, e: 'x'.repeat(64) })).toEqual({ o: 2 ** 53 - 1, e: 'x'.repeat(64) })
    for (const bad of [null, 0, 'x', [0, 'x'], {}, { o: 1 }, { e: 'x' }, { o: -1, e: 'x' }, { o: 0.5, e: 'x' }, { o: 2 ** 53, e: 'x' }, { o: 1, e: '' }, { o: 1, e: 'x'.repeat(65) }, { o: 1, e: 7 }]) {
      expect(() => checkSince(bad)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    }
  })
})

describe('TopicHistory', () => {
  it('delivers this node’s appends to a stream in offset order, even when the store answers out of order', async () => {
    const inner = createMemoryHistory()
    let n = 0
    const store: HistoryStore = {
      ...inner,
      append: async (s, d, o) => {
        const pos = await inner.append(s, d, o)
        await new Promise((r) => setTimeout(r, [8, 1, 4][n++ % 3]))
        return pos
      },
    }
    const th = history(store)
    const delivered: number[] = []
    const positions = await Promise.all([1, 2, 3, 4, 5].map((i) => th.append('a.b.~', TopicHistory.encodePayload({ i }), h, (p) => void delivered.push(p.offset))))
    expect(positions.map((p) => p.offset)).toEqual([1, 2, 3, 4, 5])
    expect(delivered).toEqual([1, 2, 3, 4, 5])
    // A failed append rejects with UNAVAILABLE and does not stop the ones after it.
    const failing = history({ ...inner, append: () => Promise.reject(new Error('down')) })
    await expect(failing.append('a.b.~', new Uint8Array(), h, () => {})).rejects.toMatchObject({ code: 'UNAVAILABLE', cause: new Error('down') })
  })

  it('makes one read for every recovery of a (stream, position) while it is in flight, captured once', async () => {
    const inner = createMemoryHistory()
    const reads: unknown[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const store: HistoryStore = {
      ...inner,
      read: async (s, o) => {
        reads.push([s, o.after, o.limit])
        const r = await inner.read(s, o)
        await gate
        return r
      },
    }
    const th = history(store, 3)
    let top: StreamPosition = { offset: 0, epoch: '' }
    for (let i = 0; i < 5; i++) top = await th.append('s', TopicHistory.encodePayload(i), h, () => {})
    let captures = 0
    let stopped = 0
    const capture = () => (captures++, { held: [], stop: () => void stopped++ })
    const got: [boolean, HistoryRead][] = []
    const recover = (o: number) => th.recover('s', h, { o, e: top.epoch }, streamCache(), capture, (r) => void got.push([r.recovered, r.read]))
    const all = [recover(2), recover(2), recover(1)]
    await tick()
    const late = recover(2) // still in flight: joins
    release()
    await Promise.all([...all, late])
    expect(reads).toEqual([['s', 2, 3], ['s', 1, 3]])
    expect([captures, stopped]).toEqual([2, 2])
    expect(got.map(([r]) => r)).toEqual([true, true, true, false]) // missed 4 > maxRecovery 3
    expect(got[0]![1]).toBe(got[1]![1])
    expect(th.replay(got[0]![1], 't', '')).toBe(th.replay(got[1]![1], 't', '')) // encoded once
    expect(th.replay(got[0]![1], 't', '').map((f) => JSON.parse(f as string))).toEqual([3, 4, 5].map((o) => ({ t: 'pub', n: 't', k: '', d: o - 1, o, e: top.epoch })))
  })

  it('rejects every waiting recovery with UNAVAILABLE when the read fails, and stops the capture', async () => {
    const th = history({ ...createMemoryHistory(), read: () => Promise.reject(new Error('down')) })
    let stopped = 0
    const capture = () => ({ held: [], stop: () => void stopped++ })
    const r = [th.recover('s', h, undefined, streamCache(), capture, () => {}), th.recover('s', h, undefined, streamCache(), capture, () => {})]
    for (const p of r) await expect(p).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    expect(stopped).toBe(1)
  })

  it('answers later recoveries of the same position from the last read until a frame of the stream arrives', async () => {
    const { store, reads } = counted()
    const th = history(store)
    let top: StreamPosition = { offset: 0, epoch: '' }
    for (let i = 0; i < 5; i++) top = await th.append('s', TopicHistory.encodePayload(i), h, () => {})
    const cache = streamCache()
    const capture = () => ({ held: [] as Captured[], stop: () => {} })
    const got: HistoryRead[] = []
    const recover = (o: number) => th.recover('s', h, { o, e: top.epoch }, cache, capture, (r) => void got.push(r.read))
    for (let i = 0; i < 10; i++) await recover(2) // one after the other: never in flight together
    await th.recover('s', h, undefined, cache, capture, () => {})
    await th.recover('s', h, undefined, cache, capture, () => {})
    expect(reads).toEqual([2, -1])
    expect(new Set(got).size).toBe(1)
    await recover(3) // another position: its own read
    expect(reads).toEqual([2, -1, 3])
    top = await th.append('s', TopicHistory.encodePayload(5), h, () => {})
    cache.frame() // the publication reaches the stream: what was read is no longer the whole story
    await recover(2)
    expect(reads).toEqual([2, -1, 3, 2])
    expect(got.at(-1)!.top.offset).toBe(6)
    expect(th.stats).toEqual({ subscribes: 14, recoveries: 12, recovered: 12, replayed: 10 * 3 + 2 + 4, reads: 4 })
  })

  it('keeps no read that frames arrived after, and none past the topic ttl', async () => {
    const { store, reads } = counted()
    const th = history(store)
    const top = await th.append('s', TopicHistory.encodePayload(0), h, () => {})
    const cache = streamCache()
    // A frame past the read's top came in while it was read: the next recovery must read again.
    const late = () => ({ held: [{ frame: '', o: top.offset + 1, e: top.epoch }], stop: () => {} })
    await th.recover('s', h, { o: 0, e: top.epoch }, cache, late, () => {})
    await th.recover('s', h, { o: 0, e: top.epoch }, cache, late, () => {})
    expect(reads).toEqual([0, 0])
    const short = { size: 10, ttlMs: 1 }
    const none = () => ({ held: [], stop: () => {} })
    await th.recover('s', short, { o: 0, e: top.epoch }, cache, none, () => {})
    await new Promise((r) => setTimeout(r, 10))
    await th.recover('s', short, { o: 0, e: top.epoch }, cache, none, () => {})
    expect(reads).toEqual([0, 0, 0, 0])
  })

  it('answers UNAVAILABLE when a read takes longer than recoveryTimeoutMs, and the next recovery reads again', async () => {
    const inner = createMemoryHistory()
    let hang = true
    const store: HistoryStore = { ...inner, read: (s, o) => (hang ? new Promise(() => {}) : inner.read(s, o)) }
    const th = history(store, 100, 30)
    const cache = streamCache()
    let stopped = 0
    const capture = () => ({ held: [], stop: () => void stopped++ })
    const t0 = Date.now()
    await expect(th.recover('s', h, undefined, cache, capture, () => {})).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25)
    expect(stopped).toBe(1)
    hang = false
    let answered = 0
    await th.recover('s', h, undefined, cache, capture, () => void answered++)
    expect(answered).toBe(1)
  })
})
