import { RtError, toRtError, type Frame, type HistoryOptions, type HistoryRead, type HistoryStore, type ServerFrame, type StreamPosition } from '@rt/contract'
import type { HistoryStats } from '../types.js'
import type { Captured } from './topic-routes.js'

export interface TopicHistoryOptions {
  /** The store, resolved on first use: a server with no history topic never touches it. */
  store: () => HistoryStore
  /** Encodes a frame in codec `codec` (an index in the node's list; 0 the canonical one). */
  encode: (frame: ServerFrame, codec: number) => Frame
  /** Resolves once this node's bus subscriptions made so far are in place (`bus.flush`). */
  flush: () => Promise<void>
  /** `limits.maxRecovery`: most publications one recovery replays. */
  maxRecovery: number
  /** `limits.recoveryTimeoutMs`: longest a recovery's store read may take before the sub is answered UNAVAILABLE. */
  recoveryTimeoutMs: number
}

/** A recovery position as a client sends it (`s` of a `sub` frame). */
export interface SincePosition {
  o: number
  e: string
}

/** Live frames of a stream held from before a recovery read starts until its connections join. */
export interface Capture {
  held: readonly Captured[]
  stop(): void
}

interface Batch {
  waiters: ((read: HistoryRead | undefined, held: readonly Captured[], err?: unknown) => void)[]
}

/** A recovery read kept for the connections that come after it, while it is current. */
export interface RecentRead {
  read: HistoryRead
  at: number
}

/**
 * Where a stream keeps its recent reads (by position): the stream's route empties it on every
 * frame that reaches the stream, so a read found there still holds everything up to now.
 */
export interface ReadCache {
  recent: Map<string, RecentRead> | undefined
}

/** How long a recent read serves (at most the topic's ttl), and how many positions a stream keeps. */
const RECENT_MS = 5_000
const RECENT_MAX = 64

/** What a recovery read found: the read, and whether it holds every publication after the position. */
export interface Recovery {
  read: HistoryRead
  recovered: boolean
}

/** One page of `srv.history(...)`: newest last, and the stream's top position. */
export interface HistoryPage {
  publications: { offset: number; payload: unknown }[]
  offset: number
  epoch: string
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/**
 * Checks the `s` of a `sub` frame (client-controlled): absent, or `{ o: safe integer ≥ 0, e: 1–64
 * characters }`. Anything else is BAD_REQUEST.
 */
export function checkSince(s: unknown): SincePosition | undefined {
  if (s === undefined) return undefined
  const p = typeof s === 'object' && s !== null && !Array.isArray(s) ? (s as Record<string, unknown>) : undefined
  const o = p?.o
  const e = p?.e
  if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0 || typeof e !== 'string' || e.length === 0 || e.length > 64) {
    throw new RtError('BAD_REQUEST', 'Invalid recovery position: `s` must be { o: a non-negative integer, e: a string of 1-64 characters }')
  }
  return { o, e }
}

/**
 * Topic history on one node, over a `HistoryStore`: appends serialised per stream (so this node's
 * publishes go out in offset order), recovery reads coalesced per (stream, position), and the
 * server's own history queries. Stream names are the bus subject without its `topic.` prefix.
 */
export class TopicHistory {
  private readonly chains = new Map<string, Promise<StreamPosition>>()
  /** Recovery reads in flight, by position and stream: a recovery asking meanwhile shares one. */
  private readonly batches = new Map<string, Batch>()
  private readonly replays = new WeakMap<HistoryRead, Frame[][]>()
  /** Counted since start: `srv.stats().history`. */
  readonly stats: HistoryStats = { subscribes: 0, recoveries: 0, recovered: 0, replayed: 0, reads: 0 }

  constructor(private readonly o: TopicHistoryOptions) {}

  /** The payload as stored: UTF-8 JSON of what was published. */
  static encodePayload(payload: unknown): Uint8Array {
    return enc.encode(JSON.stringify(payload) ?? 'null')
  }

  /**
   * Appends to `stream` after every earlier append of this node to it, then runs `deliver` with
   * the position (still in turn, so deliveries follow offset order). Rejects with UNAVAILABLE when
   * the store fails.
   */
  append(stream: string, data: Uint8Array, history: HistoryOptions, deliver: (pos: StreamPosition) => void): Promise<StreamPosition> {
    const run = () =>
      this.o
        .store()
        .append(stream, data, history)
        .then(
          (pos) => (deliver(pos), pos),
          (e: unknown) => Promise.reject(new RtError('UNAVAILABLE', 'History store failed to append', undefined, { cause: e })),
        )
    const prev = this.chains.get(stream)
    const p = prev ? prev.then(run, run) : run()
    this.chains.set(stream, p)
    const done = () => {
      if (this.chains.get(stream) === p) this.chains.delete(stream)
    }
    p.then(done, done)
    return p
  }

  /**
   * Recovers one connection from `since` (or subscribes it from now, without): `deliver` runs
   * with the read and the frames captured meanwhile, synchronously for every connection of the
   * batch. One store read per (stream, position) for every connection that asks while it is in
   * flight: the batch captures the stream's live frames (`capture`, called by the first one)
   * before the read starts, and after the bus has this node's subscriptions in place, so what the
   * read misses is in the capture, whenever a connection joined. A read that nothing arrived
   * after is kept in `cache` (the stream's): connections asking later, before the next frame of
   * the stream reaches this node, are answered from it without a read.
   */
  recover(stream: string, history: HistoryOptions, since: SincePosition | undefined, cache: ReadCache, capture: () => Capture, deliver: (r: Recovery, held: readonly Captured[]) => void): Promise<void> {
    const pos = since ? String(since.o) : ''
    const answer = (read: HistoryRead, held: readonly Captured[]) => {
      const recovered = this.verdict(read, since)
      deliver({ read, recovered }, held)
      this.count(since, recovered, read)
    }
    const recent = this.recent(cache, pos, history)
    if (recent) {
      try {
        answer(recent, [])
        return Promise.resolve()
      } catch (e) {
        return Promise.reject(e)
      }
    }
    const id = `${pos}\n${stream}`
    let batch = this.batches.get(id)
    if (!batch) {
      const b: Batch = { waiters: [] }
      this.batches.set(id, (batch = b))
      const cap = capture()
      let timer: ReturnType<typeof setTimeout> | undefined
      const start = () => {
        const store = this.o.store()
        this.stats.reads++
        const reading = since === undefined ? store.read(stream, { limit: 0, history }) : store.read(stream, { after: since.o, limit: this.o.maxRecovery, history })
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`History store read took over ${this.o.recoveryTimeoutMs} ms`)), this.o.recoveryTimeoutMs)
        })
        return Promise.race([reading, late])
      }
      const settle = (read: HistoryRead | undefined, err?: unknown) => {
        clearTimeout(timer)
        if (this.batches.get(id) === b) this.batches.delete(id)
        try {
          for (const w of b.waiters) w(read, cap.held, err)
        } finally {
          cap.stop()
        }
        if (read && cap.held.every((c) => c.e === read.top.epoch && c.o <= read.top.offset)) this.keep(cache, pos, read)
      }
      // This node's appends the read saw may not be delivered yet: they go into the capture first.
      const delivered = (read: HistoryRead) => {
        const tail = this.chains.get(stream)
        return tail ? tail.then(() => read, () => read) : read
      }
      this.o.flush().then(start, start).then(delivered).then((read) => settle(read), (e: unknown) => settle(undefined, e))
    }
    return new Promise((resolve, reject) => {
      batch.waiters.push((read, held, err) => {
        if (!read) return reject(new RtError('UNAVAILABLE', 'History store failed to read', undefined, { cause: err }))
        try {
          answer(read, held)
          resolve()
        } catch (e) {
          reject(e)
        }
      })
    })
  }

  private recent(cache: ReadCache, pos: string, history: HistoryOptions): HistoryRead | undefined {
    const r = cache.recent?.get(pos)
    if (r && Date.now() - r.at <= Math.min(RECENT_MS, history.ttlMs ?? RECENT_MS)) return r.read
    if (r) cache.recent!.delete(pos)
    return undefined
  }

  private keep(cache: ReadCache, pos: string, read: HistoryRead): void {
    const recent = (cache.recent ??= new Map())
    if (recent.size < RECENT_MAX || recent.has(pos)) recent.set(pos, { read, at: Date.now() })
  }

  private count(since: SincePosition | undefined, recovered: boolean, read: HistoryRead): void {
    const st = this.stats
    st.subscribes++
    if (!since) return
    st.recoveries++
    if (recovered) {
      st.recovered++
      st.replayed += read.publications.length
    }
  }

  /** All or nothing: every publication after `since` is in the read, same epoch, at most `maxRecovery` of them. */
  private verdict(read: HistoryRead, since: SincePosition | undefined): boolean {
    if (!since) return false
    const { top, oldest, publications } = read
    const missed = top.offset - since.o
    return (
      since.e === top.epoch &&
      missed >= 0 &&
      missed <= this.o.maxRecovery &&
      since.o + 1 >= oldest &&
      publications.length === missed &&
      (missed === 0 || publications[0]!.offset === since.o + 1)
    )
  }

  /** The replayed publications of a read as `pub` frames in codec `codec`, encoded once for every connection on it that shares the read. */
  replay(read: HistoryRead, topic: string, key: string, codec = 0): readonly Frame[] {
    let perCodec = this.replays.get(read)
    if (!perCodec) this.replays.set(read, (perCodec = []))
    let frames = perCodec[codec]
    if (!frames) {
      const e = read.top.epoch
      frames = perCodec[codec] = read.publications.map((p) => this.o.encode({ t: 'pub', n: topic, k: key, d: JSON.parse(dec.decode(p.data)), o: p.offset, e }, codec))
    }
    return frames
  }

  /** `srv.history(...)`: newest `limit` publications, or the oldest `limit` after `since` (same epoch). */
  async query(stream: string, history: HistoryOptions, options: { limit?: number; since?: StreamPosition } = {}): Promise<HistoryPage> {
    const limit = options.limit ?? history.size
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RtError('BAD_REQUEST', 'history: limit must be a non-negative integer')
    const since = options.since
    if (since !== undefined && (!Number.isSafeInteger(since.offset) || since.offset < 0 || typeof since.epoch !== 'string')) {
      throw new RtError('BAD_REQUEST', 'history: since must be { offset: a non-negative integer, epoch: string }')
    }
    const store = this.o.store()
    try {
      let read = since ? await store.read(stream, { after: since.offset, limit, history }) : undefined
      // Offsets of another epoch mean nothing: read as without `since` (the page's epoch says so).
      if (!read || read.top.epoch !== since?.epoch) read = await store.read(stream, { limit, last: true, history })
      return {
        publications: read.publications.map((p) => ({ offset: p.offset, payload: JSON.parse(dec.decode(p.data)) as unknown })),
        offset: read.top.offset,
        epoch: read.top.epoch,
      }
    } catch (e) {
      const err = toRtError(e)
      throw err.code === 'INTERNAL' ? new RtError('UNAVAILABLE', 'History store failed to read', undefined, { cause: e }) : err
    }
  }
}
