import type { Bus, BusSubscription, Frame, Schema, ServerFrame } from '@rt/contract'
import { decodeEnvelope, fromPeers, validateSync, type Envelope } from '@rt/contract/internal'
import type { NativeFanout } from '@rt/rooms'
import { Encodings, type Codecs } from '../codecs.js'
import type { Connection } from '../connection.js'
import { subjects } from '../cluster/subjects.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import type { TopicListener as PublicListener } from '../types.js'
import type { RecentRead } from './topic-history.js'

/** A listener as the hub holds it: any topic, any params. */
export type TopicListener = PublicListener<Record<string, { payload: Schema; subscribe: true; params: Schema }>, string>

export interface TopicRoutesOptions {
  bus: Bus
  nodeId: string
  decode: (frame: Frame) => unknown
  native?: NativeFanout<Connection> | undefined
  /** The node's codecs: frames reach each connection in its own. @default JSON alone */
  codecs?: Codecs
  report: (error: unknown) => void
  telemetry?: Telemetry
  /** How long a switch keeps the old subscription after the flush: see `Handover`. @default 25 */
  handoverGraceMs?: number
  /** The longest it then waits for an unheard peer. @default 2 000 */
  handoverWaitMs?: number
}

/** A frame of a history topic held for a connection that is recovering, with its position. */
export interface Captured {
  frame: Frame
  o: number
  e: string
  /** Its encodings in other codecs, made for the first recovering connection on one. */
  made?: Encodings
}

/** One stream (topic + params key) with local interest: its clients, and listeners on it alone. */
export interface Stream {
  readonly interest: Interest
  readonly key: string
  /** `topic.<scope>.<topic>.<key>`: the bus subject and the native fan-out channel. */
  readonly subject: string
  readonly conns: Set<Connection>
  readonly listeners: Set<TopicListener>
  /** Connections recovering (history topics): frames for them are held here until their replay is sent. */
  readonly captures: Set<Captured[]>
  /** Recovery reads nothing has arrived after, by position (history topics): emptied by every frame of the stream. */
  recent: Map<string, RecentRead> | undefined
  /** Its own bus subscription, held while no whole-topic subscription serves it. */
  sub: BusSubscription | undefined
  /** Fed by the topic's `.*` subscription instead of its own. */
  viaAll: boolean
  /** While it switches subscriptions, and until each peer has been heard from since: see `Handover`. */
  handover: Handover | undefined
}

/**
 * A stream fed by two subscriptions at once, its own and the topic's `.*`, while the node
 * switches between them. Both get every message, and not at the same moment: the bus writes the
 * two copies one after the other, and a read can end between them, so no instant splits both
 * alike. Each message is delivered on its first copy and dropped on its second, told apart by
 * its origin's `seq`: a peer's messages come in its order on each subscription.
 *
 * The old subscription is dropped only once the new one is known to carry everything. A flush's
 * answer does not prove that: a NATS server can match a peer's message before it has the new
 * subscription and write it after the answer, to the old one alone. So the switch keeps both
 * for a grace after the flush, and then until the new subscription has brought a message from
 * every peer heard on the stream since the switch began (that peer's later messages are matched
 * after it), or for `handoverWaitMs` at most. Once the old one is gone (`open` false), a
 * peer's entry goes with its next message past it, and the handover with the last entry.
 */
interface Handover {
  open: boolean
  /**
   * By origin: the highest `seq` delivered, and whether the staying subscription (`.*` while the
   * topic has a whole-topic listener, else the stream's own) has brought one of its messages.
   */
  peers: Map<string, { seq: number; heard: boolean }>
}

/** A (scope, topic) with local interest. */
interface Interest {
  id: string
  scope: string
  topic: string
  payload: Schema
  streams: Map<string, Stream>
  /** Listeners on every stream of the topic. */
  all: Set<TopicListener>
  /** `topic.<scope>.<topic>.*`, held while `all` is non-empty (and until a handover settles). */
  wildcard: BusSubscription | undefined
  /** Bumped on each wildcard handover; a settle for an older one is stale. */
  gen: number
  /** Peers of its streams' open handovers not yet heard on the staying subscription. */
  unheard: number
  /** Ends the switch in progress: set once its flush and grace are over, called by the last unheard peer. */
  settle: (() => void) | undefined
  /** The switch's grace, then its longest wait (`handoverWaitMs`). */
  timer: ReturnType<typeof setTimeout> | undefined
}

const decodeKey = (k: string): unknown => (k === '' ? undefined : JSON.parse(k))

/**
 * How a node holds its topic interest on the bus, and delivers what arrives. One bus
 * subscription per interest, never two that overlap: one per stream with a local subscriber, or
 * — while the topic has a listener on every stream — `topic.<scope>.<topic>.*` alone, routed to
 * the streams by key. Publishers always send on the stream's own subject.
 */
export class TopicRoutes {
  private readonly interests = new Map<string, Interest>()
  private subs = 0
  private closed = false

  constructor(private readonly o: TopicRoutesOptions) {}

  /** The stream of `key`, made (and subscribed, unless `.*` covers it) on first use. */
  stream(scope: string, topic: string, payload: Schema, key: string): Stream {
    const i = this.interest(scope, topic, payload)
    let s = i.streams.get(key)
    if (s) return s
    s = { interest: i, key, subject: subjects.topic(scope, topic, key), conns: new Set(), listeners: new Set(), captures: new Set(), recent: undefined, sub: undefined, viaAll: i.all.size > 0, handover: undefined }
    if (!s.viaAll) {
      s.sub = this.subscribe(s.subject, this.fromStream(s))
      // `.*` is on its way out and still carries the stream until the switch ends.
      if (i.wildcard) this.overlap(i, s)
    }
    i.streams.set(key, s)
    return s
  }

  /** A stream that lost a subscriber: gone, with its subscription, once nothing here wants it. */
  release(s: Stream): void {
    const i = s.interest
    if (s.conns.size > 0 || s.listeners.size > 0 || s.captures.size > 0 || i.streams.get(s.key) !== s) return
    i.streams.delete(s.key)
    this.unsubscribe(s.sub)
    s.sub = undefined
    if (s.handover?.open) for (const p of s.handover.peers.values()) if (!p.heard) this.heard(i)
    this.forget(i)
  }

  /** A listener on every stream of a topic; returns the function that removes it. */
  listenAll(scope: string, topic: string, payload: Schema, listener: TopicListener): () => void {
    const i = this.interest(scope, topic, payload)
    i.all.add(listener)
    if (i.all.size === 1) this.cover(i)
    return () => {
      if (i.all.delete(listener) && i.all.size === 0) this.uncover(i)
    }
  }

  /** Starts holding the stream's frames for one recovering connection; `uncapture` ends it. */
  capture(s: Stream): Captured[] {
    const held: Captured[] = []
    s.captures.add(held)
    return held
  }

  uncapture(s: Stream, held: Captured[]): void {
    s.captures.delete(held)
    this.release(s)
  }

  /** A publish made on this node: its frame to local clients, the validated value to listeners. */
  local(scope: string, topic: string, key: string, frame: Frame, source: ServerFrame, value: unknown, pos?: { offset: number; epoch: string }): void {
    const i = this.interests.get(`${scope}\n${topic}`)
    if (!i) return
    const s = i.streams.get(key)
    if (s) this.toConns(s, frame, source, pos && { o: pos.offset, e: pos.epoch })
    this.toListeners(i, s, true, key, value, this.o.nodeId)
  }

  /** Bus subscriptions held: one per subscribed stream, plus one per topic with a whole-topic listener. */
  get count(): number {
    return this.subs
  }

  close(): void {
    this.closed = true
    for (const i of this.interests.values()) {
      clearTimeout(i.timer)
      this.unsubscribe(i.wildcard)
      for (const s of i.streams.values()) this.unsubscribe(s.sub)
    }
    this.interests.clear()
  }

  // ---- bus subscriptions ------------------------------------------------------------------
  private interest(scope: string, topic: string, payload: Schema): Interest {
    const id = `${scope}\n${topic}`
    let i = this.interests.get(id)
    if (!i) this.interests.set(id, (i = { id, scope, topic, payload, streams: new Map(), all: new Set(), wildcard: undefined, gen: 0, unheard: 0, settle: undefined, timer: undefined }))
    return i
  }

  private forget(i: Interest): void {
    if (i.streams.size === 0 && i.all.size === 0 && i.wildcard === undefined) this.interests.delete(i.id)
  }

  /**
   * The first whole-topic listener: subscribe to `.*`, then, once it is known to carry every
   * stream (see `Handover`), drop the per-stream subscriptions it covers. Until then both feed
   * each stream, one copy of each message taken, so none is missed or delivered twice.
   */
  private cover(i: Interest): void {
    i.wildcard ??= this.subscribe(subjects.topicAll(i.scope, i.topic), this.fromAll(i))
    for (const s of i.streams.values()) if (s.sub) this.overlap(i, s)
    this.settleLater(i)
  }

  /** The last whole-topic listener gone: the streams subscribe on their own again, then `.*` goes. */
  private uncover(i: Interest): void {
    for (const s of i.streams.values()) {
      s.sub ??= this.subscribe(s.subject, this.fromStream(s))
      if (i.wildcard) this.overlap(i, s)
    }
    this.settleLater(i)
  }

  /** The stream is fed by both subscriptions now (`i.all` says which one stays). */
  private overlap(i: Interest, s: Stream): void {
    const h = s.handover
    if (!h) {
      s.handover = { open: true, peers: new Map() }
      return
    }
    // Reopened, or turned around (a switch always reverses the one before): every peer is to be
    // heard again, on the subscription that stays now.
    for (const p of h.peers.values()) {
      if (!h.open || p.heard) i.unheard++
      p.heard = false
    }
    h.open = true
  }

  /** A peer of an open handover heard on the staying subscription (or its stream gone). */
  private heard(i: Interest): void {
    if (--i.unheard === 0 && i.settle) queueMicrotask(i.settle)
  }

  private settleLater(i: Interest): void {
    const gen = ++i.gen
    clearTimeout(i.timer)
    i.settle = i.timer = undefined
    const settle = () => {
      if (this.closed || i.gen !== gen || this.interests.get(i.id) !== i) return
      clearTimeout(i.timer)
      i.settle = i.timer = undefined
      i.unheard = 0
      const covered = i.all.size > 0
      for (const s of i.streams.values()) {
        s.viaAll = covered
        const h = s.handover
        if (h) {
          h.open = false
          if (h.peers.size === 0) s.handover = undefined
        }
        if (covered) {
          this.unsubscribe(s.sub)
          s.sub = undefined
        }
      }
      if (!covered) {
        this.unsubscribe(i.wildcard)
        i.wildcard = undefined
        this.forget(i)
      }
    }
    // Then: the grace, and then the switch ends with the last unheard peer, or after the wait.
    const ready = () => {
      if (this.closed || i.gen !== gen) return
      i.settle = settle
      if (i.unheard <= 0) return settle()
      i.timer = setTimeout(settle, this.o.handoverWaitMs ?? 2_000)
      i.timer.unref?.()
    }
    const flushed = () => {
      const grace = this.o.handoverGraceMs ?? 25
      if (grace <= 0) return ready()
      if (this.closed || i.gen !== gen) return
      i.timer = setTimeout(ready, grace)
      i.timer.unref?.()
    }
    this.o.bus.flush().then(flushed, flushed)
  }

  private subscribe(subject: string, handler: (env: Envelope) => void): BusSubscription {
    this.subs++
    return this.o.bus.subscribe(subject, fromPeers(this.o.nodeId, decodeEnvelope, handler))
  }

  private unsubscribe(sub: BusSubscription | undefined): void {
    if (!sub) return
    this.subs--
    sub.unsubscribe()
  }

  // ---- delivery ---------------------------------------------------------------------------
  private fromStream(s: Stream): (env: Envelope) => void {
    return (env) => {
      if (this.takes(s, false, env)) this.fromBus(s.interest, s, false, env)
    }
  }

  private fromAll(i: Interest): (env: Envelope) => void {
    return (env) => {
      const s = i.streams.get(env.header)
      this.fromBus(i, s && this.takes(s, true, env) ? s : undefined, true, env)
    }
  }

  /** Whether the stream takes this copy of a message (`viaAll`: the `.*` subscription's). */
  private takes(s: Stream, viaAll: boolean, env: Envelope): boolean {
    const h = s.handover
    // A peer that predates `seq`: the subscription in use alone, as the switch left it.
    if (!h || env.seq === undefined) return s.viaAll === viaAll
    const p = h.peers.get(env.origin)
    if (!h.open) {
      // The old subscription is gone: only second copies of what it brought are left to drop.
      if (p === undefined) return true
      if (env.seq <= p.seq) return false
      if (h.peers.delete(env.origin) && h.peers.size === 0) s.handover = undefined
      return true
    }
    const staying = viaAll === (s.interest.all.size > 0)
    if (p === undefined) {
      h.peers.set(env.origin, { seq: env.seq, heard: staying })
      if (!staying) s.interest.unheard++
      return true
    }
    if (staying && !p.heard) {
      p.heard = true
      this.heard(s.interest)
    }
    if (env.seq <= p.seq) return false
    p.seq = env.seq
    return true
  }

  /**
   * A peer's publish, for stream `s` and (`all`: from the `.*` subscription) the whole-topic
   * listeners. The frame goes to local clients as-is; listeners get it decoded and validated
   * once, as the schema outputs it — what clients get.
   */
  private fromBus(i: Interest, s: Stream | undefined, all: boolean, env: Envelope): void {
    const tel = this.o.telemetry
    const t0 = tel ? tel.now() : 0
    if (s) this.toConns(s, env.frame, undefined)
    if (tel && (s || (all && i.all.size > 0))) tel.received('topic', i.topic, env.meta, s?.conns.size ?? 0, t0, this.o.native && env.frame)
    if ((!all || i.all.size === 0) && (s?.listeners.size ?? 0) === 0) return
    const checked = validateSync(i.payload, (this.o.decode(env.frame) as { d: unknown }).d, `Message on "${i.topic}"`)
    if (!checked.ok) return this.o.report(checked.error)
    this.toListeners(i, s, all, env.header, checked.value, env.origin)
  }

  /** Local clients of a stream: the recipients of a publish made here. */
  recipients(scope: string, topic: string, key: string): number {
    return this.interests.get(`${scope}\n${topic}`)?.streams.get(key)?.conns.size ?? 0
  }

  private toConns(s: Stream, frame: Frame, source: ServerFrame | undefined, pos?: { o: number; e: string }): void {
    s.recent = undefined
    if (s.captures.size > 0) this.hold(s, frame, source, pos)
    if (s.conns.size === 0) return
    if (this.o.native) this.o.native.publish(s.subject, frame, source)
    else if (this.o.codecs) this.o.codecs.deliver(s.conns, frame, source)
    else for (const c of s.conns) c.send(frame)
  }

  /** A captured frame in a connection's codec. */
  heldFrame(c: Captured, codec: number): Frame {
    return codec === 0 || !this.o.codecs ? c.frame : (c.made ??= new Encodings(this.o.codecs, c.frame, undefined)).get(codec)
  }

  // Decoded once per frame, only while someone recovers: the position orders it against the replay.
  private hold(s: Stream, frame: Frame, source: ServerFrame | undefined, pos: { o: number; e: string } | undefined): void {
    let p: { o?: unknown; e?: unknown } | undefined = pos
    try {
      p ??= this.o.decode(frame) as { o?: unknown; e?: unknown }
    } catch (e) {
      return this.o.report(e)
    }
    if (typeof p?.o !== 'number' || typeof p.e !== 'string') return
    const c: Captured = source && this.o.codecs ? { frame, o: p.o, e: p.e, made: new Encodings(this.o.codecs, frame, source) } : { frame, o: p.o, e: p.e }
    for (const held of s.captures) held.push(c)
  }

  private toListeners(i: Interest, s: Stream | undefined, all: boolean, key: string, payload: unknown, origin: string): void {
    const listeners = [...(s?.listeners ?? []), ...(all ? i.all : [])]
    if (listeners.length === 0) return
    const params = decodeKey(key)
    const meta = { topic: i.topic, nodeId: origin }
    for (const l of listeners) {
      try {
        l(payload, params, meta)
      } catch (err) {
        this.o.report(err)
      }
    }
  }
}
