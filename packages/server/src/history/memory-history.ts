import { randomBytes } from 'node:crypto'
import type { HistoryOptions, HistoryRead, HistoryReadOptions, HistoryStore, StoredPublication, StreamPosition } from '@rt/contract'

/** Options of {@link createMemoryHistory}. */
export interface MemoryHistoryOptions {
  /**
   * A stream with nothing retained is forgotten after this long without an append or a read
   * (or after its topic's `ttlMs`, when that is longer); its next life gets a new epoch.
   * @default 600000 (10 minutes)
   */
  idleMs?: number
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number
}

interface Entry {
  offset: number
  at: number
  data: Uint8Array
}

interface Stream {
  epoch: string
  top: number
  /** Retained publications, oldest first; `entries[i].offset === top - entries.length + 1 + i`. */
  entries: Entry[]
  /** Index of the first live entry: dropping from the front is amortised, not an O(n) shift each time. */
  head: number
  touched: number
  idleMs: number
}

const DEFAULT_IDLE_MS = 10 * 60_000

/**
 * Creates the in-memory history store: the embedded default, for one node. Each stream keeps at
 * most its topic's `size` publications, none older than `ttlMs`; streams left empty are forgotten.
 */
export function createMemoryHistory(options: MemoryHistoryOptions = {}): HistoryStore {
  const now = options.now ?? Date.now
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS
  const streams = new Map<string, Stream>()
  let closed = false
  let lastSweep = now()

  const trim = (s: Stream, h: HistoryOptions, t: number) => {
    let head = Math.max(s.head, s.entries.length - h.size)
    if (h.ttlMs !== undefined) while (head < s.entries.length && s.entries[head]!.at <= t - h.ttlMs) head++
    s.head = head
    if (head > 64 && head * 2 > s.entries.length) {
      s.entries = s.entries.slice(head)
      s.head = 0
    }
  }

  // Forgets streams that hold nothing and have been idle: bounds memory when params keys come and go.
  const sweep = (t: number) => {
    if (t - lastSweep < Math.min(idleMs, 1_000)) return
    lastSweep = t
    for (const [name, s] of streams) {
      if (s.head >= s.entries.length && t - s.touched >= s.idleMs) streams.delete(name)
    }
  }

  const open = (name: string, h: HistoryOptions, t: number): Stream => {
    sweep(t)
    let s = streams.get(name)
    if (s) trim(s, h, t)
    if (s && s.head >= s.entries.length && t - s.touched >= s.idleMs) s = undefined
    if (!s) {
      s = { epoch: randomBytes(6).toString('base64url'), top: 0, entries: [], head: 0, touched: t, idleMs }
      streams.set(name, s)
    }
    s.touched = t
    s.idleMs = Math.max(idleMs, h.ttlMs ?? 0)
    return s
  }

  const check = () => {
    if (closed) throw new Error('history store is closed')
  }

  return {
    async append(name: string, data: Uint8Array, h: HistoryOptions): Promise<StreamPosition> {
      check()
      const t = now()
      const s = open(name, h, t)
      s.top++
      s.entries.push({ offset: s.top, at: t, data: new Uint8Array(data) })
      trim(s, h, t)
      return { offset: s.top, epoch: s.epoch }
    },
    async read(name: string, o: HistoryReadOptions & { history: HistoryOptions }): Promise<HistoryRead> {
      check()
      const s = open(name, o.history, now())
      const live = s.entries.length - s.head
      const oldest = s.top - live + 1
      const from = Math.max(oldest, (o.after ?? 0) + 1)
      let start = from
      let end = s.top // inclusive
      const limit = Math.max(0, Math.floor(o.limit))
      if (o.last) start = Math.max(from, end - limit + 1)
      else end = Math.min(end, from + limit - 1)
      const publications: StoredPublication[] = []
      for (let off = start; off <= end; off++) {
        const e = s.entries[s.head + (off - oldest)]!
        publications.push({ offset: e.offset, data: e.data })
      }
      return { publications, top: { offset: s.top, epoch: s.epoch }, oldest }
    },
    async close() {
      closed = true
      streams.clear()
    },
  }
}
