import { RtError, toRtError, type Bus, type Frame, type RoleView, type ServerFrame, type StreamPosition, type SubFrame, type TopicDef, type UnsubFrame } from '@rt/contract'
import { ContractViolation, encodeEnvelope, validateSync } from '@rt/contract/internal'
import type { NativeFanout } from '@rt/rooms'
import type { Codecs } from '../codecs.js'
import type { Connection } from '../connection.js'
import { subjects } from '../cluster/subjects.js'
import { streamKey, streamKeySync, type StreamKey } from './stream-key.js'
import { checkSince, TopicHistory, type SincePosition } from './topic-history.js'
import { TopicRoutes, type Captured, type Stream, type TopicListener } from './topic-routes.js'
import { Telemetry } from '../telemetry/telemetry.js'

/** `(params, ctx, conn) => boolean`: may this connection subscribe to this stream? */
export type Authorize = (params: unknown, ctx: unknown, conn: Connection) => boolean | Promise<boolean>

export interface TopicHubOptions {
  bus: Bus
  nodeId: string
  shared: RoleView
  roles: ReadonlyMap<string, RoleView>
  /** The canonical encoding (the bus's). */
  encode: (frame: ServerFrame) => Frame
  decode: (frame: Frame) => unknown
  /** The node's codecs: frames reach each connection in its own. @default the canonical one alone */
  codecs?: Codecs
  /** Gate for a topic as seen by a role; undefined lets everyone in. */
  authorizer: (role: string, scope: string, topic: string) => Authorize | undefined
  maxSubscriptions: number
  /** Deepest params accepted from a client (`limits.maxInputDepth`). */
  maxInputDepth: number
  native?: NativeFanout<Connection>
  /** History of topics declared with `history`; without it they behave as plain topics. */
  history?: TopicHistory
  report: (error: unknown) => void
  /** Counts and traces publishes and deliveries. @default counted on a telemetry of its own */
  telemetry?: Telemetry
  /** A subscription switch's grace after its flush (see `TopicRoutes`). @default 25 */
  handoverGraceMs?: number
}

/**
 * Topics: client opt-in streams and server-side listeners, on one node and across the cluster.
 * A stream is a topic plus one params value (`streamKey`); it is published on
 * `topic.<scope>.<topic>.<key>`. What may subscribe and publish is checked here; how the node
 * holds its interest on the bus, and delivers, is `TopicRoutes`.
 */
export class TopicHub {
  private readonly routes: TopicRoutes
  /** Streams of each connection, by subject: to answer `unsub` and enforce the per-connection limit. */
  private readonly perConn = new Map<Connection, Map<string, Stream>>()
  private readonly tel: Telemetry
  /**
   * The running number of this node's publishes (`Envelope.seq`): a peer switching one stream
   * between two subscriptions drops the second copy of each by it. Started from the clock, so a
   * restarted node that keeps its id numbers above its earlier life (unless that one averaged
   * over a million publishes a second).
   */
  private seq = Date.now() * 1_000

  constructor(private readonly o: TopicHubOptions) {
    this.routes = new TopicRoutes({
      bus: o.bus,
      nodeId: o.nodeId,
      decode: o.decode,
      native: o.native,
      ...(o.codecs && { codecs: o.codecs }),
      report: o.report,
      telemetry: (this.tel = o.telemetry ?? new Telemetry()),
      ...(o.handoverGraceMs !== undefined && { handoverGraceMs: o.handoverGraceMs }),
    })
  }

  /** Resolves a topic name for a role to its declaration and scope (`shared` or the role). */
  resolve(role: string | null, topic: string): { def: TopicDef; scope: string } | undefined {
    const shared = this.o.shared.topics.get(topic)
    if (shared) return { def: shared, scope: 'shared' }
    const def = role === null ? undefined : this.o.roles.get(role)?.topics.get(topic)
    return def && role !== null ? { def, scope: role } : undefined
  }

  /** What the server itself may use: its own scope's topics (a role's, or the shared ones). */
  private own(role: string | null, topic: string, Err: typeof RtError): { def: TopicDef; scope: string } {
    const found = this.resolve(role, topic)
    if (!found || (role !== null && found.scope === 'shared')) {
      throw new Err('NOT_FOUND', `Topic "${topic}" is not in the ${role === null ? 'shared' : `role "${role}"'s`} vocabulary`)
    }
    return found
  }

  async subscribeConn(conn: Connection, f: SubFrame): Promise<void> {
    try {
      const found = this.resolve(conn.role, f.n)
      if (!found) throw new RtError('NOT_FOUND', `Unknown topic "${f.n}"`)
      const history = found.def.history && this.o.history
      const since = history ? checkSince(f.s) : undefined
      // A sub with a position may be a hole repair of a stream it has: counted below, once its key is known.
      if (!since && (this.perConn.get(conn)?.size ?? 0) >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
      let k: StreamKey
      try {
        k = await streamKey(found.def, f.q, this.o.maxInputDepth)
      } catch (e) {
        // A schema that throws may have a bug: the client is refused, and the server told.
        if (e instanceof RtError && e.cause !== undefined) this.o.report(new RtError('BAD_REQUEST', `Params schema of "${f.n}" threw`, undefined, { cause: e.cause }))
        throw e
      }
      const { params, key } = k
      const gate = this.o.authorizer(conn.role, found.scope, f.n)
      if (gate && !(await gate(params, conn.ctx, conn))) throw new RtError('FORBIDDEN', `Not allowed to subscribe to "${f.n}"`)
      if (conn.closed) return
      const subject = subjects.topic(found.scope, f.n, key)
      if (history) return await this.recover(conn, f, found.scope, found.def, key, subject, since)
      let mine = this.perConn.get(conn)
      if (!mine) this.perConn.set(conn, (mine = new Map()))
      if (!mine.has(subject)) {
        if (mine.size >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
        const s = this.routes.stream(found.scope, f.n, found.def.payload, key)
        mine.set(subject, s)
        s.conns.add(conn)
        this.o.native?.subscribe(conn, s.subject)
      }
      conn.send(conn.encoder.encode({ t: 'result', id: f.id, d: { k: key } }))
    } catch (e) {
      const err = toRtError(e)
      if (err.code === 'INTERNAL') this.o.report(err.cause ?? err)
      conn.sendError(f.id, err)
    }
  }

  /**
   * Subscribes a connection to a history stream, from `since` or from now. Live frames of the
   * stream are captured before the store is read (one read for every connection recovering the
   * same position, see `TopicHistory.recover`); then, with no await in between, the connection
   * gets the ack `{ k, r, o, e }`, the replay (offsets after `since`, oldest first; nothing unless
   * recovered), the captured frames past the read's top, and joins the live stream. A stream the
   * connection already has (a hole repair) is left for the time of it.
   */
  private async recover(conn: Connection, f: SubFrame, scope: string, def: TopicDef, key: string, subject: string, since: SincePosition | undefined): Promise<void> {
    const history = this.o.history!
    let mine = this.perConn.get(conn)
    if (!mine) this.perConn.set(conn, (mine = new Map()))
    if (!mine.has(subject) && mine.size >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
    const s = this.routes.stream(scope, f.n, def.payload, key)
    if (mine.get(subject) === s && s.conns.delete(conn)) this.o.native?.unsubscribe(conn, s.subject)
    mine.set(subject, s)
    const capture = () => {
      const held = this.routes.capture(s)
      return { held, stop: () => this.routes.uncapture(s, held) }
    }
    try {
      await history.recover(subject.slice('topic.'.length), def.history!, since, s, capture, ({ read, recovered }, held) => {
        // Gone or unsubscribed meanwhile: nothing to send, and the stream is not joined.
        if (conn.closed || this.perConn.get(conn)?.get(subject) !== s) return
        const top = read.top
        const replay = recovered ? history.replay(read, f.n, key, conn.codec) : [] // before the ack: a bad stored payload fails the sub whole
        conn.send(conn.encoder.encode({ t: 'result', id: f.id, d: { k: key, r: recovered, o: top.offset, e: top.epoch } }))
        for (const frame of replay) conn.send(frame)
        for (const c of after(held, top)) conn.send(this.routes.heldFrame(c, conn.codec))
        s.conns.add(conn)
        this.o.native?.subscribe(conn, s.subject)
      })
    } catch (e) {
      if (this.perConn.get(conn)?.get(subject) === s && !s.conns.has(conn)) this.leave(conn, subject)
      const err = toRtError(e)
      if (err.code === 'UNAVAILABLE') this.o.report(err)
      throw err
    }
    this.routes.release(s)
  }

  unsubscribeConn(conn: Connection, f: UnsubFrame): void {
    const found = this.resolve(conn.role, f.n)
    if (found) this.leave(conn, subjects.topic(found.scope, f.n, f.k))
  }

  /** The connection is gone: drop all its subscriptions. */
  drop(conn: Connection): void {
    for (const subject of [...(this.perConn.get(conn)?.keys() ?? [])]) this.leave(conn, subject)
  }

  private leave(conn: Connection, subject: string): void {
    const mine = this.perConn.get(conn)
    const s = mine?.get(subject)
    if (!mine || !s) return
    mine.delete(subject)
    if (mine.size === 0) this.perConn.delete(conn)
    s.conns.delete(conn)
    this.o.native?.unsubscribe(conn, s.subject)
    this.routes.release(s)
  }

  /**
   * Publishes to every subscriber of the stream on every node, clients and server listeners:
   * at once for a plain topic; for a history topic once the store has appended it, resolving with
   * its position. Throws at once if the payload or params break the contract.
   */
  publish(role: string | null, topic: string, payload: unknown, params: unknown): Promise<StreamPosition> | undefined {
    const { def, scope } = this.own(role, topic, ContractViolation)
    const what = `publish("${topic}")`
    const { key } = streamKeySync(def, params, what, ContractViolation)
    const checked = validateSync(def.payload, payload, `${what}: payload`, ContractViolation)
    if (!checked.ok) throw checked.error
    const subject = subjects.topic(scope, topic, key)
    const tel = this.tel
    // Begun here, in the publisher's context (say, a call's span): a history append ends it later.
    const span = tel.begin('topic', topic)
    const t0 = tel.now()
    if (def.history && this.o.history) {
      const appended = this.o.history.append(subject.slice('topic.'.length), TopicHistory.encodePayload(payload), def.history, (pos) => {
        const source: ServerFrame = { t: 'pub', n: topic, k: key, d: payload, o: pos.offset, e: pos.epoch }
        const frame = this.o.encode(source)
        this.o.bus.publish(subject, encodeEnvelope(this.o.nodeId, key, frame, tel.meta(span), ++this.seq))
        this.routes.local(scope, topic, key, frame, source, checked.value, pos)
        tel.sent(span, 'topic', topic, this.routes.recipients(scope, topic, key), t0, this.o.native && frame)
      })
      if (span) appended.catch(() => span.end())
      return appended
    }
    const source: ServerFrame = { t: 'pub', n: topic, k: key, d: payload }
    const frame = this.o.encode(source)
    this.o.bus.publish(subject, encodeEnvelope(this.o.nodeId, key, frame, tel.meta(span), ++this.seq))
    // Clients here get the frame; listeners here the value just validated: no decode, no second check.
    this.routes.local(scope, topic, key, frame, source, checked.value)
    tel.sent(span, 'topic', topic, this.routes.recipients(scope, topic, key), t0, this.o.native && frame)
  }

  /** `srv.history(...)`: a page of a history topic's stream. */
  history(role: string | null, topic: string, args: unknown[]): ReturnType<TopicHistory['query']> {
    try {
      const { def, scope } = this.own(role, topic, RtError)
      if (!def.history || !this.o.history) throw new RtError('BAD_REQUEST', `history("${topic}"): the topic is declared without history`)
      const params = def.params ? args[0] : undefined
      const options = (def.params ? args[1] : args[0]) as Parameters<TopicHistory['query']>[2]
      const { key } = streamKeySync(def, params, `history("${topic}")`)
      return this.o.history.query(subjects.topic(scope, topic, key).slice('topic.'.length), def.history, options)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /** Server-side listener on one stream (params given) or on every stream of a topic. */
  listen(role: string | null, topic: string, params: unknown, hasParams: boolean, listener: TopicListener): () => void {
    const { def, scope } = this.own(role, topic, RtError)
    const key = hasParams ? (def.params ? streamKeySync(def, params, `subscribe("${topic}")`).key : this.noParams(topic)) : undefined
    const entry: TopicListener = (p, q, m) => listener(p, q, m) // the same function twice is two listeners
    if (key === undefined) return this.routes.listenAll(scope, topic, def.payload, entry)
    const s = this.routes.stream(scope, topic, def.payload, key)
    s.listeners.add(entry)
    return () => {
      if (s.listeners.delete(entry)) this.routes.release(s)
    }
  }

  private noParams(topic: string): never {
    throw new RtError('BAD_REQUEST', `subscribe("${topic}"): this topic takes no params`)
  }

  /** Client subscriptions on this node by topic name, one per connection per stream (a recovering one included). */
  subscriptionCounts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const streams of this.perConn.values()) for (const s of streams.values()) counts[s.interest.topic] = (counts[s.interest.topic] ?? 0) + 1
    return counts
  }

  /** Bus subscriptions held for topics: one per stream, or one per topic with a whole-topic listener. */
  get busSubscriptions(): number {
    return this.routes.count
  }

  close(): void {
    this.routes.close()
    this.perConn.clear()
  }
}

/** Captured frames a recovery read did not include, in offset order (another epoch's as they came). */
function after(held: readonly Captured[], top: StreamPosition): Captured[] {
  const later = held.filter((c) => c.e !== top.epoch || c.o > top.offset)
  return later.length > 1 ? later.sort((a, b) => (a.e === b.e ? a.o - b.o : 0)) : later
}
