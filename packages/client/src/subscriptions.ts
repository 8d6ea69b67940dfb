import {
  RtError,
  errorFromFrame,
  stableKey,
  type Encoder,
  type ErrorFrame,
  type Frame,
  type PubFrame,
  type ResultFrame,
  type RoleView,
  type SubAck,
} from '@rt/contract'
import { callEach, checkInbound } from './deliver.js'
import { backoffDelay } from './backoff.js'
import { StreamOrder } from './stream-order.js'
import type { HistorySubscribeOptions, HistorySubscription, PlainMeta, SubscribedInfo, Subscription, WebSocketLike } from './types.js'

interface SubEntry {
  listener: (payload: unknown, meta: unknown) => void
  onError: ((error: RtError) => void) | undefined
  onSubscribed: ((info: SubscribedInfo) => void) | undefined
}

/** A plain topic's `meta`: no position. */
const PLAIN_META: PlainMeta = Object.freeze({})

/** One stream (topic + params) this client wants, shared by every `subscribe` to it. */
interface ClientSub {
  id: string
  topic: string
  params: unknown
  /** The stream key the server acknowledged; undefined until then. */
  key: string | undefined
  entries: Set<SubEntry>
  /** History topics only: the position, and the order publications are delivered in. */
  order: StreamOrder | undefined
  ready: Promise<SubscribedInfo | void>
  settle: { resolve: (info: SubscribedInfo | void) => void; reject: (e: unknown) => void } | undefined
  /** History topics: `UNAVAILABLE` answers in a row (the server's store out of reach), for the retry's backoff. */
  retries?: number | undefined
}

/** What the subscriptions need from their client. */
export interface SubscriptionsLink {
  view: RoleView
  role: string
  encoder: Encoder
  validate: boolean
  report: (e: unknown) => void
  nextId: () => number
  /** The socket, while the client is open. */
  open: () => WebSocketLike | undefined
  /** Why the client closed for good, once it has. */
  closed: () => RtError | undefined
  /** Whether a frame exceeds what the server accepts. */
  tooLarge: (frame: Frame) => boolean
}

/**
 * The client's topic subscriptions: acknowledged per stream, shared by identical subscribes,
 * restored on every new connection.
 */
export class Subscriptions {
  private readonly subs = new Map<string, ClientSub>() // by topic + params as given
  private readonly streams = new Map<string, Set<ClientSub>>() // by topic + acknowledged stream key
  private readonly acks = new Map<number, ClientSub>() // sub frames awaiting their answer

  constructor(private readonly link: SubscriptionsLink) {}

  subscribe(topic: string, args: unknown[]): Subscription | HistorySubscription {
    const def = this.link.view.topics.get(topic)
    if (!def) throw new RtError('NOT_FOUND', `Topic "${topic}" is not in role "${this.link.role}"'s vocabulary`)
    const params = def.params ? args.shift() : undefined
    const listener = args[0] as (payload: unknown) => void
    const opts = args[1] as HistorySubscribeOptions | undefined
    if (typeof listener !== 'function') throw new TypeError(`subscribe("${topic}") needs a listener function`)
    const id = `${topic}\n${stableKey(params)}`
    const history = def.history !== undefined
    const entry: SubEntry = { listener, onError: opts?.onError, onSubscribed: history ? opts?.onSubscribed : undefined }
    // An unanswered subscription left by a quick unsubscribe is revived rather than duplicated.
    let sub = this.subs.get(id)
    if (sub) sub.entries.add(entry)
    else {
      const created: ClientSub = { id, topic, params, key: undefined, entries: new Set([entry]), order: undefined, ready: Promise.resolve(), settle: undefined }
      // `since` applies to a new subscription; one that joins a stream already held shares its position.
      if (history) created.order = new StreamOrder(opts?.since ?? undefined, (payload, meta) => this.deliver(created, payload, meta), () => this.repair(created))
      created.ready = new Promise<SubscribedInfo | void>((resolve, reject) => (created.settle = { resolve, reject }))
      created.ready.catch(() => {}) // observed through `ready` or onError; never an unhandled rejection
      this.subs.set(id, created)
      sub = created
      const closed = this.link.closed()
      const s = this.link.open()
      if (closed) this.rejected(sub, closed, true)
      else if (s) this.send(s, sub)
    }
    const owner = sub
    const unsubscribe = () => {
      if (!owner.entries.delete(entry) || owner.entries.size > 0) return
      // Not answered yet: it is dropped when the answer comes (or revived by a new subscribe).
      if ([...this.acks.values()].includes(owner)) return
      if (this.subs.get(owner.id) === owner) this.subs.delete(owner.id)
      this.leaveStream(owner)
    }
    const handle = Object.assign(unsubscribe, { ready: owner.ready })
    return Object.defineProperty(handle, 'position', { get: () => owner.order?.position, enumerable: true }) as Subscription | HistorySubscription
  }

  /** Routes a result/error frame answering a `sub`; false if the id is not a subscription's. */
  answer(f: ResultFrame | ErrorFrame): boolean {
    const sub = f.id === undefined ? undefined : this.acks.get(f.id)
    if (!sub) return false
    this.acks.delete(f.id!)
    if (f.t === 'error') {
      const error = errorFromFrame(f)
      // A history stream whose store is out of reach for a moment (a NATS outage): ask again later,
      // from the same position, instead of ending the subscription.
      if (error.code === 'UNAVAILABLE' && sub.order) this.retry(sub)
      else this.rejected(sub, error)
    } else {
      sub.retries = undefined
      this.acked(sub, (typeof f.d === 'object' && f.d !== null ? f.d : {}) as Partial<SubAck>)
    }
    return true
  }

  private retry(sub: ClientSub): void {
    sub.retries = (sub.retries ?? 0) + 1
    const timer = setTimeout(() => {
      // Offline by then, the next connection's resubscribe asks again anyway.
      const s = this.link.open()
      if (s && this.subs.get(sub.id) === sub && ![...this.acks.values()].includes(sub)) this.send(s, sub)
    }, backoffDelay(sub.retries, { minDelayMs: 250, maxDelayMs: 5_000 }))
    ;(timer as { unref?: () => void }).unref?.()
  }

  publication(f: PubFrame): void {
    const set = this.streams.get(`${f.n}\n${f.k}`)
    const def = this.link.view.topics.get(f.n)
    if (!set || !def) return
    if (def.history === undefined) {
      const listeners = [...set].flatMap((sub) => [...sub.entries].map((e) => (v: unknown) => e.listener(v, PLAIN_META)))
      return checkInbound(def.payload, f.d, this.link.validate, `Message on "${f.n}"`, this.link.report, (v) => callEach(listeners, v, this.link.report))
    }
    if (typeof f.o !== 'number' || typeof f.e !== 'string') {
      return this.link.report(new RtError('BAD_REQUEST', `Message on history topic "${f.n}" has no position`))
    }
    for (const sub of [...set]) sub.order?.publication(f.d, f.o, f.e)
  }

  /** A new connection: every wanted stream is subscribed again. */
  restore(s: WebSocketLike): void {
    this.streams.clear()
    for (const sub of [...this.subs.values()]) {
      if (sub.entries.size === 0) this.subs.delete(sub.id)
      else this.send(s, sub)
    }
  }

  /** The link dropped: answers in flight will never come. */
  dropped(): void {
    this.acks.clear()
    for (const sub of this.subs.values()) sub.order?.dropped()
  }

  /** The client closed for good: pending subscriptions reject with its reason. */
  fail(error: RtError): void {
    for (const sub of [...this.subs.values()]) if (sub.settle) this.rejected(sub, error, true)
  }

  private streamOf(sub: ClientSub): string {
    return `${sub.topic}\n${sub.key}`
  }

  /** Leaves a stream; tells the server only when no other subscription of this client uses it. */
  private leaveStream(sub: ClientSub): void {
    if (sub.key === undefined) return
    const set = this.streams.get(this.streamOf(sub))
    if (!set?.delete(sub) || set.size > 0) return
    this.streams.delete(this.streamOf(sub))
    this.link.open()?.send(this.link.encoder.encode({ t: 'unsub', n: sub.topic, k: sub.key }))
  }

  private send(s: WebSocketLike, sub: ClientSub): void {
    const id = this.link.nextId()
    const from = sub.order?.from
    const frame = this.link.encoder.encode({
      t: 'sub',
      id,
      n: sub.topic,
      ...(sub.params === undefined ? {} : { q: sub.params }),
      ...(from === undefined ? {} : { s: from }),
    })
    if (this.link.tooLarge(frame)) return this.rejected(sub, new RtError('PAYLOAD_TOO_LARGE', `Params of "${sub.topic}" are larger than the server accepts`))
    this.acks.set(id, sub)
    sub.order?.sent()
    s.send(frame)
  }

  /** A hole in a history stream's offsets: subscribe again from the position, so the server replays what is missing. */
  private repair(sub: ClientSub): void {
    const s = this.link.open()
    // Offline, the next connection's resubscribe recovers from the position anyway.
    if (s && this.subs.get(sub.id) === sub) this.send(s, sub)
  }

  private deliver(sub: ClientSub, payload: unknown, meta: unknown): void {
    const listeners = [...sub.entries].map((e) => (v: unknown) => e.listener(v, meta))
    checkInbound(this.link.view.topics.get(sub.topic)!.payload, payload, this.link.validate, `Message on "${sub.topic}"`, this.link.report, (v) =>
      callEach(listeners, v, this.link.report),
    )
  }

  private acked(sub: ClientSub, ack: Partial<SubAck>): void {
    const key = ack.k
    sub.key = typeof key === 'string' ? key : ''
    // Params a schema transforms can name a stream another subscription already has: share it.
    let set = this.streams.get(this.streamOf(sub))
    if (!set) this.streams.set(this.streamOf(sub), (set = new Set()))
    set.add(sub)
    if (sub.entries.size === 0) {
      // Unsubscribed while the server was answering.
      this.subs.delete(sub.id)
      return this.leaveStream(sub)
    }
    const info = sub.order?.acked({ k: sub.key, ...ack })
    sub.settle?.resolve(info)
    sub.settle = undefined
    if (!info) return
    for (const e of [...sub.entries]) {
      try {
        // An async onSubscribed (say, reloading from a database) must not become an unhandled rejection.
        const r = e.onSubscribed?.(info) as unknown
        if (r instanceof Promise) r.catch(this.link.report)
      } catch (err) {
        this.link.report(err)
      }
    }
    // Held publications that follow the top (a stream that continues live) are delivered after onSubscribed.
    sub.order!.drain()
  }

  private rejected(sub: ClientSub, error: RtError, quiet = false): void {
    if (this.subs.get(sub.id) === sub) this.subs.delete(sub.id)
    if (sub.key !== undefined) this.streams.get(this.streamOf(sub))?.delete(sub)
    sub.settle?.reject(error)
    sub.settle = undefined
    for (const e of sub.entries) e.onError?.(error)
    if (!quiet && [...sub.entries].every((e) => !e.onError)) this.link.report(error)
  }
}
