import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { headers, nanos, type NatsConnection } from '@nats-io/transport-node'
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type StoredMsg,
  type StreamInfo,
} from '@nats-io/jetstream'
import { RtError, type HistoryOptions, type HistoryRead, type HistoryStore, type StoredPublication, type StreamPosition } from '@rt/contract'

/** Where and how the JetStream history store keeps topic history (the `history` option of `createNatsBus`). */
export interface NatsHistoryOptions {
  /** Name stem of the JetStream streams; one stream per topic `size`, named `<stream>_<size>`. @default `<prefix>_history` */
  stream?: string
  /** Replicas of each stream it creates (1, 3 or 5 on a JetStream cluster). @default 1 */
  replicas?: number
  /** Where the streams it creates keep messages: `'file'` survives a NATS server restart, `'memory'` does not. @default 'file' */
  storage?: 'file' | 'memory'
  /**
   * The streams' `max_age`: publications older than this are deleted by NATS, whatever the topic's
   * `ttlMs`. A stream whose publications all expired starts a new epoch. @default none (topic `ttlMs` applies at read)
   */
  maxAgeMs?: number
}

/** The JetStream `HistoryStore`, with counters for diagnostics. */
export interface NatsHistory extends HistoryStore {
  /** Appends made, and appends retried because another node appended to the same stream first. */
  readonly stats: { appends: number; retries: number }
}

const OFFSET = 'Rt-Offset'
const EPOCH = 'Rt-Epoch'
const MAX_ATTEMPTS = 64
const READ_TIMEOUT_MS = 10_000
const noop = () => {}

const unavailable = (what: string, cause: unknown) =>
  cause instanceof RtError ? cause : new RtError('UNAVAILABLE', `JetStream history: ${what}`, undefined, { cause })
const isTimeout = (e: unknown) => e instanceof Error && e.name === 'TimeoutError'

/** Retries what timed out: a JetStream cluster electing a (meta or stream) leader does not answer for a moment. */
async function patient<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (e) {
      if (!isTimeout(e) || attempt >= attempts) throw e
    }
  }
}

/** A replicated stream answers only once it has a leader: wait for one (bounded). */
async function withLeader(jsm: JetStreamManager, info: StreamInfo): Promise<StreamInfo> {
  const end = Date.now() + READ_TIMEOUT_MS
  while (info.cluster !== undefined && !info.cluster.leader && Date.now() < end) {
    await sleep(50)
    info = await jsm.streams.info(info.config.name)
  }
  return info
}
const isApiError = (e: unknown, code: number) => e instanceof JetStreamApiError && e.code === code

/** A stream's creation time (nanosecond ISO string) as a short token: a recreated stream gets a new one. */
const lifeToken = (info: StreamInfo) => BigInt(info.created.replace(/\D/g, '').padEnd(23, '0')).toString(36)

/**
 * Creates a `HistoryStore` on JetStream (nats-server 2.9+). Offsets are an `Rt-Offset` header,
 * made contiguous across nodes by a conditional publish (expected last subject sequence and a
 * message id per offset) retried on conflict; the epoch is the stream's creation time.
 */
export function createJetStreamHistory(
  connection: () => Promise<NatsConnection>,
  prefix: string,
  options: NatsHistoryOptions = {},
): NatsHistory {
  const stem = options.stream ?? `${(prefix === '' ? 'rt' : prefix).replace(/[^A-Za-z0-9_-]/g, '_')}_history`
  const subjectRoot = prefix === '' ? 'hist' : `${prefix}.hist`
  // Without max_age and on file storage, a subject's last message is never removed, so a stream
  // life ends only with the JetStream stream; otherwise a subject can empty and start a new life.
  const livesCanEnd = options.maxAgeMs !== undefined || options.storage === 'memory'
  const stats = { appends: 0, retries: 0 }
  const ensured = new Map<number, Promise<StreamInfo>>()
  let api: Promise<{ js: JetStreamClient; jsm: JetStreamManager }> | undefined
  const chains = new Map<string, Promise<void>>()
  let closed = false

  const clients = () =>
    (api ??= connection().then(async (nc) => ({ js: jetstream(nc), jsm: await jetstreamManager(nc) })).catch((e) => {
      api = undefined
      throw e
    }))

  const names = (size: number, stream: string) => ({ js: `${stem}_${size}`, subject: `${subjectRoot}.${size}.${stream}` })

  /** Finds or creates the JetStream stream for one topic size; `fresh` skips the cache. */
  const ensure = (size: number, fresh = false): Promise<StreamInfo> => {
    const cached = ensured.get(size)
    if (cached && !fresh) return cached
    const p = patient(async () => {
      const { jsm } = await clients()
      const name = `${stem}_${size}`
      try {
        return await withLeader(jsm, await jsm.streams.info(name))
      } catch (e) {
        if (!isApiError(e, JetStreamApiCodes.StreamNotFound)) throw e
      }
      try {
        return await withLeader(jsm, await jsm.streams.add({
          name,
          subjects: [`${subjectRoot}.${size}.>`],
          max_msgs_per_subject: size,
          discard: DiscardPolicy.Old,
          storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
          num_replicas: options.replicas ?? 1,
          max_age: options.maxAgeMs === undefined ? 0 : nanos(options.maxAgeMs),
        }))
      } catch (e) {
        // Another node created it first.
        return await withLeader(jsm, await jsm.streams.info(name).catch(() => Promise.reject(e)))
      }
    })
    ensured.set(size, p)
    p.catch(() => ensured.get(size) === p && ensured.delete(size))
    return p
  }

  /** The subject's newest message, from the stream leader (never a lagging replica). */
  const lastOf = async (size: number, stream: string): Promise<StoredMsg | null> => {
    const n = names(size, stream)
    await ensure(size)
    const { jsm } = await clients()
    for (let attempt = 1; ; attempt++) {
      try {
        return await jsm.streams.getMessage(n.js, { last_by_subj: n.subject })
      } catch (e) {
        if (isApiError(e, JetStreamApiCodes.StreamNotFound) && attempt === 1) await ensure(size, true) // deleted under us: recreate
        else if (!isTimeout(e) || attempt >= 3) throw e // a replicated stream electing a new leader does not answer for a moment
      }
    }
  }

  /** The subject's oldest retained message: STREAM.MSG.GET with next_by_subj (nats-server 2.9+, untyped in nats.js). */
  const firstOf = async (stream: string, subject: string): Promise<StoredMsg | null> => {
    const { jsm } = await clients()
    return await jsm.streams.getMessage(stream, { seq: 0, next_by_subj: subject } as unknown as MsgRequest)
  }

  const positionOf = (m: StoredMsg): StreamPosition => ({ offset: Number(m.header.get(OFFSET)), epoch: m.header.get(EPOCH) })
  /** Epoch reported for an empty subject; a new life started by an append gets this one too unless lives can end. */
  const emptyEpoch = async (size: number) => {
    const base = lifeToken(await ensure(size, true))
    return livesCanEnd ? `${base}.0` : base
  }

  const check = () => {
    if (closed) throw new RtError('UNAVAILABLE', 'JetStream history store is closed')
  }

  const appendNow = async (stream: string, data: Uint8Array, h: HistoryOptions): Promise<StreamPosition> => {
    check()
    const n = names(h.size, stream)
    try {
      for (let attempt = 1; ; attempt++) {
        const last = await lastOf(h.size, stream)
        let pos: StreamPosition
        if (last) {
          const prev = positionOf(last)
          pos = { offset: prev.offset + 1, epoch: prev.epoch }
        } else {
          const base = lifeToken(await ensure(h.size, true))
          pos = { offset: 1, epoch: livesCanEnd ? `${base}.${randomBytes(6).toString('base64url')}` : base }
        }
        const hdrs = headers()
        hdrs.set(OFFSET, String(pos.offset))
        hdrs.set(EPOCH, pos.epoch)
        try {
          const { js } = await clients()
          // The expected last subject sequence makes the append conditional; on a replicated stream,
          // nats-server 2.9 checks it without counting proposals in flight, so two nodes can both
          // pass it. The message id closes that hole: the leader deduplicates in-flight ids too.
          const ack = await js.publish(n.subject, data, {
            headers: hdrs,
            msgID: `${pos.epoch}:${pos.offset}:${n.subject}`,
            expect: { lastSubjectSequence: last?.seq ?? 0 },
          })
          if (!ack.duplicate) {
            stats.appends++
            return pos
          }
          if (attempt >= MAX_ATTEMPTS) throw new RtError('CONFLICT', `offset ${pos.offset} taken ${attempt} times`)
        } catch (e) {
          if (!isApiError(e, JetStreamApiCodes.StreamWrongLastSequence) || attempt >= MAX_ATTEMPTS) throw e
        }
        // Another node appended first: read its offset again, after a short jittered pause.
        stats.retries++
        await sleep(Math.random() * Math.min(2 ** attempt, 50))
      }
    } catch (e) {
      throw unavailable(`append to ${stream} failed`, e)
    }
  }

  return {
    stats,
    append(stream: string, data: Uint8Array, h: HistoryOptions): Promise<StreamPosition> {
      // One append at a time per stream on this node: contention (and retries) only between nodes.
      const prev = chains.get(stream) ?? Promise.resolve()
      const next = prev.then(() => appendNow(stream, data, h))
      const tail = next.then(noop, noop)
      chains.set(stream, tail)
      void tail.then(() => chains.get(stream) === tail && chains.delete(stream))
      return next
    },

    async read(stream, o): Promise<HistoryRead> {
      check()
      const h = o.history
      const n = names(h.size, stream)
      try {
        const last = await lastOf(h.size, stream)
        if (!last) return { publications: [], top: { offset: 0, epoch: await emptyEpoch(h.size) }, oldest: 1 }
        const top = positionOf(last)
        const now = Date.now()
        const floor = Math.max(1, top.offset - h.size + 1)
        if (h.ttlMs !== undefined && last.time.getTime() <= now - h.ttlMs) {
          return { publications: [], top, oldest: top.offset + 1 }
        }
        const limit = Math.max(0, Math.floor(o.limit))
        const from = Math.max(floor, (o.after ?? 0) + 1)
        if (limit === 0 || from >= top.offset) {
          // Up to date, one behind, or only the top wanted (the common reconnects): two gets, no consumer.
          const first = await firstOf(n.js, n.subject)
          if (first && (h.ttlMs === undefined || first.time.getTime() > now - h.ttlMs)) {
            const oldest = Math.max(floor, positionOf(first).offset)
            const publications = limit > 0 && from === top.offset ? [{ offset: top.offset, data: last.data }] : []
            return { publications, top, oldest }
          }
        }
        // One ordered consumer on this subject: at most `size` messages (max_msgs_per_subject).
        const { js } = await clients()
        const consumer = await js.consumers.get(n.js, {
          filter_subjects: n.subject,
          inactive_threshold: 30_000,
          ...(h.ttlMs === undefined ? {} : { opt_start_time: new Date(now - h.ttlMs).toISOString() }),
        })
        const kept: StoredPublication[] = []
        let oldest = top.offset + 1
        const messages = await consumer.consume({ max_messages: Math.min(h.size, 1_000) })
        const timer = setTimeout(() => void messages.stop(), READ_TIMEOUT_MS)
        let complete = false
        try {
          for await (const m of messages) {
            const offset = Number(m.headers?.get(OFFSET))
            if (offset >= floor && offset <= top.offset && (h.ttlMs === undefined || m.time.getTime() > now - h.ttlMs)) {
              oldest = Math.min(oldest, offset)
              if (offset > (o.after ?? 0)) kept.push({ offset, data: m.data })
            }
            if (m.seq >= last.seq || m.info.pending === 0) {
              complete = true
              break
            }
          }
        } finally {
          clearTimeout(timer)
          void messages.close().catch(() => {})
          void consumer.delete().catch(() => {})
        }
        if (!complete) throw new RtError('TIMEOUT', `JetStream history: reading ${stream} timed out`)
        const publications = limit === 0 ? [] : o.last ? kept.slice(-limit) : kept.slice(0, limit)
        return { publications, top, oldest }
      } catch (e) {
        throw unavailable(`read of ${stream} failed`, e)
      }
    },

    async close() {
      closed = true
      ensured.clear()
    },
  }
}
