import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryOptions, HistoryRead, HistoryStore } from '@rt/contract'
import { sleep } from '../harness.js'

/** Stores over one storage (several nodes where the store is shared), and how to lose it. */
export interface HistoryStoreFixture {
  /** At least one; several when the storage is shared (each a different node/connection). */
  stores: HistoryStore[]
  /** Loses the storage (memory: a new store; JetStream: streams deleted) and returns a store on the new one. */
  reset(): Promise<HistoryStore>
  cleanup(): Promise<void>
}

const enc = (s: string) => new TextEncoder().encode(s)
const dec = (d: Uint8Array) => new TextDecoder().decode(d)
const name = () => `app.feed.${randomBytes(5).toString('hex')}`
const H: HistoryOptions = { size: 100 }
const all = (store: HistoryStore, stream: string, history: HistoryOptions = H, extra: { after?: number; limit?: number; last?: boolean } = {}) =>
  store.read(stream, { limit: history.size, ...extra, history })
const offsets = (r: HistoryRead) => r.publications.map((p) => p.offset)
const texts = (r: HistoryRead) => r.publications.map((p) => dec(p.data))

/** The `HistoryStore` contract (history-and-recovery spec), run against every implementation. */
export function describeHistoryStore(label: string, makeStore: () => Promise<HistoryStoreFixture>): void {
  describe(`history store conformance: ${label}`, () => {
    let fx: HistoryStoreFixture
    let store: HistoryStore
    beforeAll(async () => {
      fx = await makeStore()
      store = fx.stores[0]!
    })
    afterAll(async () => {
      await fx?.cleanup()
    })

    it('append returns contiguous offsets from 1, all in one epoch', async () => {
      const s = name()
      const got = []
      for (let i = 0; i < 5; i++) got.push(await store.append(s, enc(`m${i}`), H))
      expect(got.map((p) => p.offset)).toEqual([1, 2, 3, 4, 5])
      expect(new Set(got.map((p) => p.epoch)).size).toBe(1)
      expect(got[0]!.epoch).toMatch(/^.{1,64}$/)
    })

    it('reads oldest first after an offset, up to a limit, or the newest with last', async () => {
      const s = name()
      for (let i = 1; i <= 10; i++) await store.append(s, enc(`m${i}`), H)
      expect(offsets(await all(store, s))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(texts(await all(store, s, H, { after: 7 }))).toEqual(['m8', 'm9', 'm10'])
      expect(offsets(await all(store, s, H, { after: 2, limit: 3 }))).toEqual([3, 4, 5])
      expect(offsets(await all(store, s, H, { limit: 3, last: true }))).toEqual([8, 9, 10])
      expect(offsets(await all(store, s, H, { after: 8, limit: 5, last: true }))).toEqual([9, 10])
      expect(offsets(await all(store, s, H, { after: 10 }))).toEqual([])
      expect(texts(await all(store, s, H, { after: 9 }))).toEqual(['m10'])
      expect(texts(await all(store, s, H, { after: 9, limit: 0 }))).toEqual([])
      expect(offsets(await all(store, s, H, { after: 50 }))).toEqual([])
    })

    it('reports the top and the oldest retained offset; limit 0 reads only those', async () => {
      const s = name()
      for (let i = 1; i <= 4; i++) await store.append(s, enc(`m${i}`), H)
      const r = await all(store, s, H, { limit: 0 })
      expect(r.publications).toEqual([])
      expect(r.top.offset).toBe(4)
      expect(r.oldest).toBe(1)
      const after = await all(store, s, H, { after: 4 })
      expect(after).toMatchObject({ publications: [], top: { offset: 4, epoch: r.top.epoch }, oldest: 1 })
    })

    it('keeps at most size publications: the oldest drop and oldest moves', async () => {
      const s = name()
      const h = { size: 3 }
      for (let i = 1; i <= 7; i++) await store.append(s, enc(`m${i}`), h)
      const r = await all(store, s, h)
      expect(offsets(r)).toEqual([5, 6, 7])
      expect(texts(r)).toEqual(['m5', 'm6', 'm7'])
      expect(r.oldest).toBe(5)
      expect(r.top.offset).toBe(7)
      // A reader at offset 2 can tell it missed 3 and 4: 2 + 1 < oldest.
      expect(offsets(await all(store, s, h, { after: 2 }))).toEqual([5, 6, 7])
      expect(await all(store, s, h, { after: 6 })).toMatchObject({ publications: [{ offset: 7 }], oldest: 5 })
      expect(await all(store, s, h, { after: 7, limit: 0 })).toMatchObject({ publications: [], oldest: 5 })
      expect((await store.append(s, enc('m8'), h)).offset).toBe(8)
    })

    it('drops publications older than ttlMs; the top and epoch stay', async () => {
      const s = name()
      const h = { size: 50, ttlMs: 400 }
      const first = await store.append(s, enc('old1'), h)
      await store.append(s, enc('old2'), h)
      await sleep(600)
      await store.append(s, enc('new3'), h)
      const r = await all(store, s, h)
      expect(texts(r)).toEqual(['new3'])
      expect(r.oldest).toBe(3)
      expect(await all(store, s, h, { after: 2 })).toMatchObject({ publications: [{ offset: 3 }], oldest: 3 })
      expect(await all(store, s, h, { limit: 0 })).toMatchObject({ publications: [], oldest: 3 })
      expect(r.top).toEqual({ offset: 3, epoch: first.epoch })
      await sleep(600)
      const gone = await all(store, s, h)
      expect(gone.publications).toEqual([])
      expect(gone.oldest).toBe(4)
      expect(gone.top).toEqual({ offset: 3, epoch: first.epoch })
      expect(await store.append(s, enc('new4'), h)).toEqual({ offset: 4, epoch: first.epoch })
    })

    it('reads an unknown stream as empty, with top 0', async () => {
      const r = await all(store, name())
      expect(r.publications).toEqual([])
      expect(r.top.offset).toBe(0)
      expect(r.top.epoch).toMatch(/^.{1,64}$/)
      expect(r.oldest).toBe(1)
    })

    it('keeps the epoch across appends and reads, and changes it when the storage is reset', async () => {
      const s = name()
      const a = await store.append(s, enc('a'), H)
      const b = await store.append(s, enc('b'), H)
      const r = await all(store, s)
      expect(b.epoch).toBe(a.epoch)
      expect(r.top).toEqual({ offset: 2, epoch: a.epoch })
      for (const other of fx.stores) expect((await all(other, s, H, { limit: 0 })).top).toEqual({ offset: 2, epoch: a.epoch })
      const fresh = await fx.reset()
      const empty = await all(fresh, s)
      expect(empty.top.offset).toBe(0)
      expect(empty.top.epoch).not.toBe(a.epoch)
      const again = await fresh.append(s, enc('c'), H)
      expect(again.offset).toBe(1)
      expect(again.epoch).not.toBe(a.epoch)
      expect(texts(await all(fresh, s))).toEqual(['c'])
    })

    it('gives concurrent appends from every store offsets 1..N exactly once each', async () => {
      const s = name()
      const h = { size: 1_000 }
      const perStore = 40
      const results = await Promise.all(
        fx.stores.flatMap((st, i) => Array.from({ length: perStore }, (_, j) => st.append(s, enc(`s${i}-${j}`), h).then((p) => ({ p, text: `s${i}-${j}` })))),
      )
      const n = fx.stores.length * perStore
      expect(results.map((r) => r.p.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      expect(new Set(results.map((r) => r.p.epoch)).size).toBe(1)
      const r = await all(store, s, h)
      expect(offsets(r)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      const byOffset = new Map(results.map((x) => [x.p.offset, x.text]))
      expect(texts(r)).toEqual(offsets(r).map((o) => byOffset.get(o)))
    })

    it('round-trips data byte-exact, and keeps its own copy', async () => {
      const s = name()
      const blobs = [new Uint8Array(0), Uint8Array.of(0, 255, 0xc3, 0x28, 10, 13), new Uint8Array(randomBytes(64 * 1024)), enc('{"text":"héllo ✓"}')]
      for (const b of blobs) await store.append(s, b, H)
      const mutated = Uint8Array.of(1, 2, 3)
      await store.append(s, mutated, H)
      mutated[0] = 9
      const r = await all(store, s)
      expect(r.publications.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(
        [...blobs, Uint8Array.of(1, 2, 3)].map((b) => Buffer.from(b).toString('hex')),
      )
    })

    it('keeps streams independent', async () => {
      const [a, b] = [name(), name()]
      const got: string[] = []
      for (let i = 0; i < 3; i++) {
        got.push(`a${(await store.append(a, enc(`a${i}`), H)).offset}`)
        got.push(`b${(await store.append(b, enc(`b${i}`), H)).offset}`)
      }
      expect(got).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3'])
      expect(texts(await all(store, a))).toEqual(['a0', 'a1', 'a2'])
      expect(texts(await all(store, b))).toEqual(['b0', 'b1', 'b2'])
      // A stream whose name extends another's is still its own.
      expect((await store.append(`${a}.x`, enc('ax'), H)).offset).toBe(1)
      expect(texts(await all(store, a))).toEqual(['a0', 'a1', 'a2'])
    })

    it('refuses use after close, without affecting the other stores', async () => {
      const s = name()
      const last = fx.stores.at(-1)!
      await last.append(s, enc('x'), H)
      await last.close()
      await expect(last.append(s, enc('y'), H)).rejects.toThrow(/closed/)
      await expect(all(last, s)).rejects.toThrow(/closed/)
      if (fx.stores.length > 1) expect(texts(await all(fx.stores[0]!, s))).toEqual(['x'])
    })
  })
}
