import { describe, expect, it } from 'vitest'
import type { HistoryRead, HistoryStore, StreamPosition } from '@rt/contract'
import { createMemoryHistory } from '../history/memory-history.js'
import { checkSince, TopicHistory } from './topic-history.js'

const h = { size: 10 }
const tick = () => new Promise((r) => setTimeout(r, 5))

function history(store: HistoryStore, maxRecovery = 100) {
  return new TopicHistory({ store: () => store, encode: (f) => JSON.stringify(f), flush: async () => {}, maxRecovery })
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
    const recover = (o: number) => th.recover('s', h, { o, e: top.epoch }, capture, (r) => void got.push([r.recovered, r.read]))
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
    const r = [th.recover('s', h, undefined, capture, () => {}), th.recover('s', h, undefined, capture, () => {})]
    for (const p of r) await expect(p).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    expect(stopped).toBe(1)
  })
})
