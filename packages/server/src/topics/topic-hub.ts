import {
  RtError,
  stableKey,
  toRtError,
  validate,
  type Bus,
  type BusSubscription,
  type Frame,
  type RoleView,
  type SubFrame,
  type TopicDef,
  type UnsubFrame,
} from '@rt/contract'
import { ContractViolation, decodeEnvelope, encodeEnvelope, subjectToken } from '@rt/contract/internal'
import { RoomRegistry, type NativeFanout } from '@rt/rooms'
import { checkPayload, type Connection } from '../connection.js'
import { depthWithin } from '../depth.js'

/** `(params, ctx, conn) => boolean`: may this connection subscribe to this stream? */
export type Authorize = (params: unknown, ctx: unknown, conn: Connection) => boolean | Promise<boolean>

/** Metadata passed to server-side topic listeners. */
export interface TopicMeta {
  topic: string
  /** Node that published the message. */
  nodeId: string
}

export type TopicListener = (payload: unknown, params: unknown, meta: TopicMeta) => void

export interface TopicHubOptions {
  bus: Bus
  nodeId: string
  shared: RoleView
  roles: ReadonlyMap<string, RoleView>
  encode: (frame: object) => Frame
  decode: (frame: Frame) => unknown
  /** Gate for a topic as seen by a role; undefined lets everyone in. */
  authorizer: (role: string, scope: string, topic: string) => Authorize | undefined
  maxSubscriptions: number
  /** Deepest params accepted from a client (`limits.maxInputDepth`). */
  maxInputDepth: number
  native?: NativeFanout<Connection>
  report: (error: unknown) => void
}

interface ServerListeners {
  schema: TopicDef['payload']
  sub: BusSubscription
  set: Set<{ key: string | undefined; listener: TopicListener }>
}

const decodeKey = (k: string): unknown => (k === '' ? undefined : JSON.parse(k))
const MAX_KEY = 1024

/**
 * Topics: client opt-in streams and server-side listeners, on one node and across the cluster.
 * A stream is a topic plus one params value; its bus subject is
 * `topic.<scope>.<topic>.<params key>`, held by a node only while it has a local subscriber.
 */
export class TopicHub {
  private readonly streams: RoomRegistry<Connection>
  private readonly listeners = new Map<string, ServerListeners>()
  /** stream key by connection and stream, to answer `unsub` and enforce the per-connection limit. */
  private readonly perConn = new Map<Connection, Set<string>>()

  constructor(private readonly o: TopicHubOptions) {
    const streamOpts: ConstructorParameters<typeof RoomRegistry<Connection>>[0] = { bus: o.bus, nodeId: o.nodeId, subject: (s) => s }
    if (o.native) streamOpts.native = o.native
    this.streams = new RoomRegistry<Connection>(streamOpts)
  }

  private subject(scope: string, topic: string, key: string): string {
    return `topic.${subjectToken(scope)}.${subjectToken(topic)}.${subjectToken(key)}`
  }

  /** Resolves a topic name for a role to its declaration and scope (`shared` or the role). */
  resolve(role: string | null, topic: string): { def: TopicDef; scope: string } | undefined {
    const shared = this.o.shared.topics.get(topic)
    if (shared) return { def: shared, scope: 'shared' }
    const def = role === null ? undefined : this.o.roles.get(role)?.topics.get(topic)
    return def && role !== null ? { def, scope: role } : undefined
  }

  private async params(topic: string, def: TopicDef, raw: unknown): Promise<{ value: unknown; key: string }> {
    if (!def.params) {
      if (raw !== undefined && raw !== null) throw new RtError('BAD_REQUEST', 'This topic takes no params')
      return { value: undefined, key: '' }
    }
    if (!depthWithin(raw, this.o.maxInputDepth)) throw new RtError('BAD_REQUEST', `Params nested deeper than ${this.o.maxInputDepth} levels`)
    let r: Awaited<ReturnType<typeof validate>>
    try {
      r = await validate(def.params, raw)
    } catch (e) {
      // The client's value made the schema throw: refused, and reported, as the schema may have a bug.
      this.o.report(new RtError('BAD_REQUEST', `Params schema of "${topic}" threw`, undefined, { cause: e }))
      throw new RtError('BAD_REQUEST', 'Invalid params')
    }
    if (!r.ok) throw new RtError('BAD_REQUEST', 'Invalid params', { issues: r.issues })
    const key = stableKey(r.value)
    // The key becomes part of a bus subject: keep it well under NATS's control-line limit.
    if (key.length > MAX_KEY) throw new RtError('BAD_REQUEST', `Params too large (over ${MAX_KEY} characters as JSON)`)
    return { value: r.value, key }
  }

  async subscribeConn(conn: Connection, f: SubFrame): Promise<void> {
    try {
      const found = this.resolve(conn.role, f.n)
      if (!found) throw new RtError('NOT_FOUND', `Unknown topic "${f.n}"`)
      const mine = this.perConn.get(conn)
      if ((mine?.size ?? 0) >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
      const { value, key } = await this.params(f.n, found.def, f.q)
      const gate = this.o.authorizer(conn.role, found.scope, f.n)
      if (gate && !(await gate(value, conn.ctx, conn))) throw new RtError('FORBIDDEN', `Not allowed to subscribe to "${f.n}"`)
      if (conn.closed) return
      const stream = this.subject(found.scope, f.n, key)
      let set = this.perConn.get(conn)
      if (!set) this.perConn.set(conn, (set = new Set()))
      if (!set.has(stream) && set.size >= this.o.maxSubscriptions) throw new RtError('RATE_LIMITED', 'Too many subscriptions')
      set.add(stream)
      this.streams.add(stream, conn)
      conn.send(this.o.encode({ t: 'result', id: f.id, d: { k: key } }))
    } catch (e) {
      const err = toRtError(e)
      if (err.code === 'INTERNAL') this.o.report(err.cause ?? err)
      conn.sendError(f.id, err)
    }
  }

  unsubscribeConn(conn: Connection, f: UnsubFrame): void {
    const found = this.resolve(conn.role, f.n)
    if (!found) return
    const stream = this.subject(found.scope, f.n, f.k)
    const set = this.perConn.get(conn)
    if (!set?.delete(stream)) return
    if (set.size === 0) this.perConn.delete(conn)
    this.streams.remove(stream, conn)
  }

  /** The connection is gone: drop all its subscriptions. */
  drop(conn: Connection): void {
    this.perConn.delete(conn)
    this.streams.removeAll(conn)
  }

  /** Streams this connection is subscribed to. */
  subscriptionsOf(conn: Connection): number {
    return this.perConn.get(conn)?.size ?? 0
  }

  /** Publishes to every subscriber of the stream on every node, clients and server listeners. */
  publish(role: string | null, topic: string, payload: unknown, params: unknown): void {
    const found = this.resolve(role, topic)
    if (!found || (role !== null && found.scope === 'shared')) {
      throw new ContractViolation('NOT_FOUND', `Topic "${topic}" is not in the ${role === null ? 'shared' : `role "${role}"'s`} vocabulary`)
    }
    const { def, scope } = found
    let key = ''
    if (def.params) {
      const r = validate(def.params, params)
      if (r instanceof Promise) throw new ContractViolation('INTERNAL', `publish("${topic}"): async params schemas are not supported`)
      if (!r.ok) throw new ContractViolation('BAD_REQUEST', `publish("${topic}"): invalid params`, { issues: r.issues })
      try {
        key = stableKey(r.value)
      } catch {
        throw new ContractViolation('BAD_REQUEST', `publish("${topic}"): params nested too deeply`)
      }
      if (key.length > MAX_KEY) throw new ContractViolation('BAD_REQUEST', `publish("${topic}"): params too large`)
    } else if (params !== undefined) throw new ContractViolation('BAD_REQUEST', `publish("${topic}"): this topic takes no params`)
    checkPayload(def.payload, payload, `publish("${topic}")`)
    const frame = this.o.encode({ t: 'pub', n: topic, k: key, d: payload })
    this.streams.broadcast(this.subject(scope, topic, key), frame, key)
    this.toListeners(scope, topic, key, frame, this.o.nodeId)
  }

  /** Server-side listener on one stream (params given) or on every stream of a topic. */
  listen(role: string | null, topic: string, params: unknown, hasParams: boolean, listener: TopicListener): () => void {
    const found = this.resolve(role, topic)
    if (!found || (role !== null && found.scope === 'shared')) throw new RtError('NOT_FOUND', `Unknown topic "${topic}"`)
    let key: string | undefined
    if (hasParams) {
      if (!found.def.params) throw new RtError('BAD_REQUEST', `Topic "${topic}" takes no params`)
      const r = validate(found.def.params, params)
      if (r instanceof Promise || !r.ok) throw new RtError('BAD_REQUEST', `Invalid params for "${topic}"`)
      key = stableKey(r.value)
    }
    const id = `${found.scope}\n${topic}`
    let l = this.listeners.get(id)
    if (!l) {
      const set: ServerListeners['set'] = new Set()
      const schema = found.def.payload
      const pattern = `topic.${subjectToken(found.scope)}.${subjectToken(topic)}.*`
      const sub = this.o.bus.subscribe(pattern, (data) => {
        const env = decodeEnvelope(data)
        if (env && env.origin !== this.o.nodeId) this.toListeners(found.scope, topic, env.header, env.frame, env.origin)
      })
      this.listeners.set(id, (l = { sub, set, schema }))
    }
    const entry = { key, listener }
    l.set.add(entry)
    const owner = l
    return () => {
      if (!owner.set.delete(entry) || owner.set.size > 0) return
      owner.sub.unsubscribe()
      this.listeners.delete(id)
    }
  }

  private toListeners(scope: string, topic: string, key: string, frame: Frame, origin: string): void {
    const l = this.listeners.get(`${scope}\n${topic}`)
    if (!l) return
    // Listeners get what clients get: the payload as the schema outputs it.
    const r = validate(l.schema, (this.o.decode(frame) as { d: unknown }).d)
    if (r instanceof Promise) return this.o.report(new RtError('INTERNAL', `Topic "${topic}": async schemas cannot feed server listeners`))
    if (!r.ok) return this.o.report(new RtError('BAD_REQUEST', `Message on "${topic}" does not match the contract`, { issues: r.issues }))
    const payload = r.value
    const params = decodeKey(key)
    for (const e of l.set) {
      if (e.key !== undefined && e.key !== key) continue
      try {
        e.listener(payload, params, { topic, nodeId: origin })
      } catch (err) {
        this.o.report(err)
      }
    }
  }

  get busSubscriptions(): number {
    return this.streams.count + this.listeners.size
  }

  close(): void {
    this.streams.close()
    for (const l of this.listeners.values()) l.sub.unsubscribe()
    this.listeners.clear()
    this.perConn.clear()
  }
}
