import { RtError, toRtError, type Bus, type Frame, type RoleView, type ServerFrame, type SubFrame, type TopicDef, type UnsubFrame } from '@rt/contract'
import { ContractViolation, encodeEnvelope, validateSync } from '@rt/contract/internal'
import type { NativeFanout } from '@rt/rooms'
import type { Connection } from '../connection.js'
import { subjects } from '../cluster/subjects.js'
import { streamKey, streamKeySync, type StreamKey } from './stream-key.js'
import { TopicRoutes, type Stream, type TopicListener } from './topic-routes.js'

/** `(params, ctx, conn) => boolean`: may this connection subscribe to this stream? */
export type Authorize = (params: unknown, ctx: unknown, conn: Connection) => boolean | Promise<boolean>

export interface TopicHubOptions {
  bus: Bus
  nodeId: string
  shared: RoleView
  roles: ReadonlyMap<string, RoleView>
  encode: (frame: ServerFrame) => Frame
  decode: (frame: Frame) => unknown
  /** Gate for a topic as seen by a role; undefined lets everyone in. */
  authorizer: (role: string, scope: string, topic: string) => Authorize | undefined
  maxSubscriptions: number
  /** Deepest params accepted from a client (`limits.maxInputDepth`). */
  maxInputDepth: number
  native?: NativeFanout<Connection>
  report: (error: unknown) => void
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

  constructor(private readonly o: TopicHubOptions) {
    this.routes = new TopicRoutes({ bus: o.bus, nodeId: o.nodeId, decode: o.decode, native: o.native, report: o.report })
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
      if ((this.perConn.get(conn)?.size ?? 0) >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
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
      let mine = this.perConn.get(conn)
      if (!mine) this.perConn.set(conn, (mine = new Map()))
      if (!mine.has(subject)) {
        if (mine.size >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
        const s = this.routes.stream(found.scope, f.n, found.def.payload, key)
        mine.set(subject, s)
        s.conns.add(conn)
        this.o.native?.subscribe(conn, s.subject)
      }
      conn.send(this.o.encode({ t: 'result', id: f.id, d: { k: key } }))
    } catch (e) {
      const err = toRtError(e)
      if (err.code === 'INTERNAL') this.o.report(err.cause ?? err)
      conn.sendError(f.id, err)
    }
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

  /** Publishes to every subscriber of the stream on every node, clients and server listeners. */
  publish(role: string | null, topic: string, payload: unknown, params: unknown): void {
    const { def, scope } = this.own(role, topic, ContractViolation)
    const what = `publish("${topic}")`
    const { key } = streamKeySync(def, params, what, ContractViolation)
    const checked = validateSync(def.payload, payload, `${what}: payload`, ContractViolation)
    if (!checked.ok) throw checked.error
    const frame = this.o.encode({ t: 'pub', n: topic, k: key, d: payload })
    this.o.bus.publish(subjects.topic(scope, topic, key), encodeEnvelope(this.o.nodeId, key, frame))
    // Clients here get the frame; listeners here the value just validated: no decode, no second check.
    this.routes.local(scope, topic, key, frame, checked.value)
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

  /** Bus subscriptions held for topics: one per stream, or one per topic with a whole-topic listener. */
  get busSubscriptions(): number {
    return this.routes.count
  }

  close(): void {
    this.routes.close()
    this.perConn.clear()
  }
}
