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
 * two copies one after the other, and a read can end between them, so no instant (not even a
 * `flush`) splits both alike. Each message is delivered on its first copy and dropped on its
 * second, told apart by its origin's `seq`: a peer's messages come in its order on each
 * subscription. Once the old subscription is gone (`open` false) no new copies pair up; a peer's
 * entry goes with its next message past it, and the handover with the last entry.
 */
interface Handover {
  open: boolean
  /** The highest `seq` delivered, by origin. */
  last: Map<string, number>
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
    if (!s.viaAll) s.sub = this.subscribe(s.subject, this.fromStream(s))
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
      this.unsubscribe(i.wildcard)
      for (const s of i.streams.values()) this.unsubscribe(s.sub)
    }
    this.interests.clear()
  }

  // ---- bus subscriptions ------------------------------------------------------------------
  private interest(scope: string, topic: string, payload: Schema): Interest {
    const id = `${scope}\n${topic}`
    let i = this.interests.get(id)
    if (!i) this.interests.set(id, (i = { id, scope, topic, payload, streams: new Map(), all: new Set(), wildcard: undefined, gen: 0 }))
    return i
  }

  private forget(i: Interest): void {
    if (i.streams.size === 0 && i.all.size === 0 && i.wildcard === undefined) this.interests.delete(i.id)
  }

  /**
   * The first whole-topic listener: subscribe to `.*`, then — once the bus has it in place
   * (`flush`) — drop the per-stream subscriptions it covers. Until then each stream keeps being
   * fed by its own, so no message is missed in the handover and none is delivered twice.
   */
  private cover(i: Interest): void {
    i.wildcard ??= this.subscribe(subjects.topicAll(i.scope, i.topic), this.fromAll(i))
    for (const s of i.streams.values()) if (s.sub) this.overlap(s)
    this.settleLater(i)
  }

  /** The last whole-topic listener gone: the streams subscribe on their own again, then `.*` goes. */
  private uncover(i: Interest): void {
    for (const s of i.streams.values()) {
      s.sub ??= this.subscribe(s.subject, this.fromStream(s))
      if (i.wildcard) this.overlap(s)
    }
    this.settleLater(i)
  }

  private overlap(s: Stream): void {
    if (s.handover) s.handover.open = true
    else s.handover = { open: true, last: new Map() }
  }

  private closeHandover(s: Stream, h: Handover): void {
    h.open = false
    if (h.last.size === 0) s.handover = undefined
  }

  private settleLater(i: Interest): void {
    const gen = ++i.gen
    const settle = () => {
      if (this.closed || i.gen !== gen || this.interests.get(i.id) !== i) return
      const covered = i.all.size > 0
      for (const s of i.streams.values()) {
        s.viaAll = covered
        if (s.handover) this.closeHandover(s, s.handover)
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
    this.o.bus.flush().then(settle, settle)
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
    const last = h.last.get(env.origin)
    if (last !== undefined && env.seq <= last) return false
    if (h.open) h.last.set(env.origin, env.seq)
    else if (last !== undefined && h.last.delete(env.origin) && h.last.size === 0) s.handover = undefined
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
