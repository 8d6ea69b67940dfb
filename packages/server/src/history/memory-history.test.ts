import { describe, expect, it } from 'vitest'
import { createMemoryHistory } from './memory-history.js'

const enc = (s: string) => new TextEncoder().encode(s)

describe('createMemoryHistory', () => {
  it('applies ttl on the clock it is given', async () => {
    let t = 1_000
    const store = createMemoryHistory({ now: () => t })
    const h = { size: 10, ttlMs: 100 }
    await store.append('s', enc('a'), h)
    t += 60
    await store.append('s', enc('b'), h)
    t += 50 // a is 110 ms old, b 50 ms
    const r = await store.read('s', { limit: 10, history: h })
    expect(r.publications.map((p) => p.offset)).toEqual([2])
    expect(r.oldest).toBe(2)
  })

  it('forgets a stream left empty and idle, so its next life has a new epoch', async () => {
    let t = 0
    const store = createMemoryHistory({ now: () => t, idleMs: 1_000 })
    const h = { size: 5, ttlMs: 100 }
    const first = await store.append('s', enc('a'), h)
    t += 500 // expired, but not idle long enough: the stream is still known
    expect((await store.read('s', { limit: 5, history: h })).top).toEqual(first)
    t += 1_000 // expired and idle for idleMs
    const r = await store.read('s', { limit: 5, history: h })
    expect(r.top.offset).toBe(0)
    expect(r.top.epoch).not.toBe(first.epoch)
    const next = await store.append('s', enc('b'), h)
    expect(next).toEqual({ offset: 1, epoch: r.top.epoch })
  })

  it('never forgets a stream that still retains publications, however idle', async () => {
    let t = 0
    const store = createMemoryHistory({ now: () => t, idleMs: 1_000 })
    const h = { size: 5 }
    const first = await store.append('s', enc('a'), h)
    t += 60 * 60_000
    await store.append('other', enc('x'), h) // runs the sweep
    const r = await store.read('s', { limit: 5, history: h })
    expect(r.top).toEqual(first)
    expect(r.publications).toHaveLength(1)
  })

  it('keeps the newest size publications, in order, through a long run of appends', async () => {
    const store = createMemoryHistory()
    const h = { size: 100 }
    for (let i = 1; i <= 20_000; i++) await store.append('s', enc(String(i)), h)
    const r = await store.read('s', { limit: 100, last: true, history: h })
    expect(r.oldest).toBe(19_901)
    expect(r.publications.map((p) => new TextDecoder().decode(p.data))).toEqual(Array.from({ length: 100 }, (_, i) => String(19_901 + i)))
  })
})
