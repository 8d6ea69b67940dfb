import type {
  AnyContract,
  Bus,
  Encoder,
  EventName,
  HistoryStore,
  StreamPosition,
  HandlerOutput,
  MessagesOf,
  ParamsIn,
  ParamsOut,
  PayloadIn,
  PayloadOut,
  RoleTopicName,
  SharedTopicName,
  TopicName,
  ProcedureInput,
  RoleOf,
  RoleProcedures,
  SharedEventName,
  SharedMessages,
  SharedProcedures,
} from '@rt/contract'
import type { ConnRecord, ConnectionQuery, NodeInfo } from './cluster/directory.js'
import type { Presence } from './cluster/presence.js'
import type { Limits } from './limits.js'
import type { Logger } from './telemetry/logger.js'
import type { Transport, TransportRequest } from './transport.js'

/** What `authenticate` must return at least: the connection's user, and when its credentials expire if they do. */
export interface BaseContext {
  user: { id: string }
  /** When the credentials expire (ms since epoch): the server asks the client for fresh ones before, and closes with 4001 at it. */
  expiresAt?: number
}

/** Why a connection ended: the WebSocket close code and reason. */
export interface DisconnectReason {
  code: number
  reason: string
}

/**
 * One client connection on this node: its role `R`, its ctx, and `Events`, each event the role may
 * receive mapped to its payload (what `emit` takes). Written as `Conn<typeof contract, 'user'>`.
 */
export interface RoleConn<R extends string, Events, Ctx extends BaseContext> {
  /** Unique in the cluster; names the node that holds the connection. */
  readonly id: string
  readonly role: R
  /** What `authenticate` returned, most recently: a refresh replaces it. */
  readonly ctx: Ctx
  /** The node that holds this connection. */
  readonly nodeId: string
  /** Connected since (ms since epoch). */
  readonly since: number
  /** Pushes an event to this connection only, on this node. */
  emit<E extends Extract<keyof Events & string, string>>(event: E, payload: Events[E]): void
  /** Closes the connection with a WebSocket close code. @default 1000 */
  close(code?: number, reason?: string): void
}

// `[C] extends [unknown] ?` is always true: it only keeps TypeScript from naming this alias in
// messages, which then print `RoleConn<"user", { message: { room: string; … } }, …>` (payloads
// resolved) instead of `Conn<Contract<{ … ZodObject …`.
/** One client connection on this node, scoped to its role's vocabulary. */
export type Conn<C extends AnyContract, R extends RoleOf<C> = RoleOf<C>, Ctx extends BaseContext = BaseContext> = [C] extends [unknown]
  ? RoleConn<R, { [E in EventName<C, R>]: PayloadIn<MessagesOf<C, R>, E> }, Ctx>
  : never

/** A procedure's handler: the validated input, the connection's ctx and the connection; returns the output. */
export type Handler<C extends AnyContract, R extends RoleOf<C>, P, Ctx extends BaseContext> = [C] extends [unknown]
  ? (input: ProcedureInput<C, R, P>, ctx: Ctx, conn: Conn<C, R, Ctx>) => HandlerOutput<C, R, P> | Promise<HandlerOutput<C, R, P>>
  : never

// `[C] extends [unknown] ?` (always true), as for `Conn`: a missing handler is then reported as
// `Property 'reply' is missing in type '{}' but required in type '{ reply: (input: …) => … }'`,
// not as `RoleHandlers<Contract<{ … ZodObject …`.
type RoleHandlers<C extends AnyContract, R extends RoleOf<C>, Ctx extends BaseContext> = [C] extends [unknown]
  ? { [P in keyof RoleProcedures<C, R> & string]: Handler<C, R, P, Ctx> }
  : never
type SharedHandlers<C extends AnyContract, Ctx extends BaseContext> = [C] extends [unknown]
  ? { [P in keyof SharedProcedures<C> & string]: Handler<C, RoleOf<C>, P, Ctx> }
  : never

/** Every procedure of the contract needs a handler: a missing one is a compile error. */
export type Handlers<C extends AnyContract, Ctx extends BaseContext> = [C] extends [unknown]
  ? { [R in RoleOf<C> as {} extends RoleProcedures<C, R> ? never : R]: RoleHandlers<C, R, Ctx> } & {
      [R in RoleOf<C> as {} extends RoleProcedures<C, R> ? R : never]?: {}
    } & ({} extends SharedProcedures<C> ? { shared?: {} } : { shared: SharedHandlers<C, Ctx> })
  : never

export interface AuthenticateInput<C extends AnyContract> {
  /** The role the client asked for (one of the contract's). */
  role: keyof C['roles'] & string
  /** Whatever the client passed as `auth`. Untrusted. */
  auth: unknown
  /** The upgrade request; on a refresh, the connection's own. */
  request: TransportRequest
  /** True when re-run on an open connection to refresh its credentials (the returned `user.id` must stay the same). */
  refresh?: boolean
}

/** Where an error reported to `onError` happened. */
export interface ErrorContext {
  where: 'handler' | 'authenticate' | 'onConnection' | 'onDisconnect' | 'output' | 'bus' | 'transport' | 'listener' | 'frame'
  connId?: string
  procedure?: string
}

export interface ServerOptions<C extends AnyContract, Ctx extends BaseContext> {
  contract: C
  transport: Transport
  /** The cluster bus. @default an in-memory bus (single node) */
  bus?: Bus
  /**
   * Where topics declared with `history` keep their publications; closing the server does not close one given here.
   * @default the bus's own store (`bus.history`, e.g. JetStream with @rt/bus-nats), else `createMemoryHistory()` (one node)
   */
  history?: HistoryStore
  /** Checks the client's hello (and each refresh); returns ctx (with `user.id`, and `expiresAt` to make it expire) or throws to refuse: 4001, 4003 for FORBIDDEN, 1013 (retry) for UNAVAILABLE/TIMEOUT/RATE_LIMITED. */
  authenticate: (input: AuthenticateInput<C>) => Ctx | Promise<Ctx>
  /** One handler per procedure: `handlers.<role>.<name>`, and `handlers.shared.<name>` for shared procedures. */
  handlers: Handlers<C, Ctx>
  // Typed `=> void`, not `=> void | Promise<void>`: TypeScript then never asks for the callback's own
  // return type, so `onConnection: (conn) => srv.room(r).add(conn)` inside `const srv = createServer(…)`
  // is not circular. An async callback still fits, and its promise is awaited (onConnection) or its
  // rejection reported (onDisconnect).
  /** Runs once a connection is admitted; frames it sends wait until a returned promise settles. */
  onConnection?: (conn: Conn<C, RoleOf<C>, Ctx>, ctx: Ctx) => void
  /** Runs once a connection has ended; a rejected promise is reported to `onError`. */
  onDisconnect?: (conn: Conn<C, RoleOf<C>, Ctx>, ctx: Ctx, reason: DisconnectReason) => void
  limits?: Partial<Limits>
  /** Allowed values of the Origin header; other origins are closed with 4003. @default any origin */
  origins?: readonly string[] | ((origin: string | undefined) => boolean)
  /** Validate handler outputs and pushed payloads against the contract. @default true unless NODE_ENV is production */
  validateOutput?: boolean
  /** The one encoder of every connection; see `encoders` to serve several. @default jsonEncoder */
  encoder?: Encoder
  /**
   * Encoders served side by side, each client on the one it asks for at connect (the WebSocket
   * subprotocol `rt.<name>`); a client asking for none gets the first. JSON, when listed, comes
   * first and is what the bus carries. Not with `encoder`. @default [encoder ?? jsonEncoder]
   */
  encoders?: readonly Encoder[]
  /** Receives errors that are not the client's fault (handler crashes, hook failures). @default logs them with `logger.error` */
  onError?: (error: unknown, context: ErrorContext) => void
  /** Where the server logs (pino-compatible: `logger.error(obj, msg)`); errors arrive with `err` and their `ErrorContext`. @default errors and warnings to stderr */
  logger?: Logger
  /** This node's id (1-64 letters, digits, - or _). Connection ids carry a per-start tag, so a restarted node may reuse it. @default a random id */
  nodeId?: string
  /** Subscription gates per topic. @default everyone may subscribe */
  topics?: TopicsOptions<C, Ctx>
  /** Cluster membership timing; see docs/cluster.md. */
  cluster?: Partial<ClusterOptions>
}

export interface ClusterOptions {
  /** How often a node announces itself on the bus. @default 2_000 */
  heartbeatMs: number
  /** Silence after which peers declare a node dead and drop its connections. @default 6_000 */
  deadAfterMs: number
}

/** A connection as the whole cluster knows it. */
export type MemberInfo = ConnRecord
export type { ConnectionQuery, NodeInfo }
export type { NodeStats, TotalName } from './cluster/node-stats.js'
export type { Presence, PresenceEntry, PresenceEvent } from './cluster/presence.js'

/** A server-controlled group of connections, mixed-role, spanning every node. */
export interface Room<C extends AnyContract> {
  readonly name: string
  /** Adds a connection of this node. Adding twice is a no-op. */
  add(conn: Conn<C, any, any>): void
  remove(conn: Conn<C, any, any>): void
  has(conn: Conn<C, any, any>): boolean
  /** Delivers a shared event to every member on every node (rooms are mixed-role). */
  broadcast<E extends SharedEventName<C>>(event: E, payload: PayloadIn<SharedMessages<C>, E>): void
  /** Members on THIS node. */
  readonly size: number
  /** Members on every node (replicated state: eventually consistent). */
  count(): Promise<number>
  members(): Promise<MemberInfo[]>
}

/** Where an event can be sent across the cluster: a connection or a user. */
export interface Target<M, E extends string> {
  /** Delivers at most once; resolves once handed to the bus. Rejects if the payload breaks the contract. */
  emit<K extends E>(event: K, payload: PayloadIn<M, K>): Promise<void>
  /** Closes the connection(s) on whatever node holds them; resolves once handed to the bus. Rejects a code other than 1000 or 3000-4999. @default 1000 (the client does not reconnect) */
  disconnect(code?: number, reason?: string): Promise<void>
}

/** Params argument of a topic: required for a topic with params, absent otherwise. */
export type ParamsArg<M, T> = ParamsIn<M, T> extends undefined ? [] : [params: ParamsIn<M, T>]

type DefOf<M, K> = K extends keyof M ? M[K] : never

/** What `publish` resolves with: the publication's position for a history topic, nothing for a plain one. */
export type PublishResult<M, K> = DefOf<M, K> extends { history: object } ? Promise<StreamPosition> : Promise<void>

/** The topics among `T` declared with `history`. */
export type HistoryTopicName<M, T extends string> = Extract<{ [K in T]: DefOf<M, K> extends { history: object } ? K : never }[T], string>

/** Options of `history(...)`. */
export interface HistoryQuery {
  /** At most this many publications; 0 returns only the top position. @default the topic's `history.size` */
  limit?: number
  /** Only publications after this position (the oldest `limit` of them); of another epoch, it is ignored. */
  since?: StreamPosition
}

/** A page of a stream's history: publications newest last, and the stream's top position. */
export interface HistoryPage<P> {
  publications: { offset: number; payload: P }[]
  /** The offset of the stream's newest publication (0 when it has none). */
  offset: number
  epoch: string
}

/** Arguments of `history(...)` after the topic: its params (for a topic with params), then options. */
export type HistoryArgs<M, T> = ParamsIn<M, T> extends undefined ? [options?: HistoryQuery] : [params: ParamsIn<M, T>, options?: HistoryQuery]

/** Metadata passed to server-side topic listeners. */
export interface TopicMeta {
  topic: string
  /** Node that published the message. */
  nodeId: string
}

export type TopicListener<M, T> = (payload: PayloadOut<M, T>, params: ParamsOut<M, T>, meta: TopicMeta) => void

/** Publish and listen on a vocabulary's topics, across the cluster. */
export interface TopicApi<M, T extends string> {
  /**
   * Delivers to every subscriber (clients and server listeners) on every node. Throws BAD_REQUEST if the payload breaks the contract.
   * A plain topic delivers before this returns; a history topic once stored, resolving with the position (rejects UNAVAILABLE if the store fails).
   */
  publish<K extends T>(topic: K, payload: PayloadIn<M, K>, ...params: ParamsArg<M, K>): PublishResult<M, K>
  /** Reads a history topic's stream: its newest publications (or those after `since`), as published, and its top position. */
  history<K extends HistoryTopicName<M, T>>(topic: K, ...args: HistoryArgs<M, K>): Promise<HistoryPage<PayloadIn<M, K>>>
  /** Listens on every stream of a topic (all params values). Returns a function that stops listening. */
  subscribe<K extends T>(topic: K, listener: TopicListener<M, K>): () => void
  /** Listens on one stream of a topic with params. */
  subscribe<K extends T>(topic: K, params: ParamsIn<M, K>, listener: TopicListener<M, K>): () => void
}

/** Role-scoped sends: role events and topics, delivered only to connections of that role. */
export interface RoleScope<C extends AnyContract, R extends RoleOf<C>> extends TopicApi<MessagesOf<C, R>, RoleTopicName<C, R>> {
  toConn(connId: string): Target<MessagesOf<C, R>, EventName<C, R>>
  toUser(userId: string): Target<MessagesOf<C, R>, EventName<C, R>>
}

// `[C] extends [unknown] ?` (always true) makes messages print these resolved, as for `Conn`.
type TopicGate<C extends AnyContract, R extends RoleOf<C>, T, Ctx extends BaseContext> = [C] extends [unknown]
  ? {
      /** May this connection subscribe to this stream? Throw an RtError to refuse with its code. */
      authorize?: (params: ParamsOut<MessagesOf<C, R>, T>, ctx: Ctx, conn: Conn<C, R, Ctx>) => boolean | Promise<boolean>
    }
  : never

/** Per-topic gates: `topics.<role>.<topic>.authorize`, and `topics.shared.<topic>` for every role. */
export type TopicsOptions<C extends AnyContract, Ctx extends BaseContext> = [C] extends [unknown]
  ? { [R in RoleOf<C>]?: { [T in TopicName<C, R>]?: TopicGate<C, R, T, Ctx> } } & {
      shared?: { [T in SharedTopicName<C>]?: TopicGate<C, RoleOf<C>, T, Ctx> }
    }
  : never

/** Counters for introspection and leak checks. */
export interface ServerStats {
  connections: number
  /** Sockets in their handshake now: open, not yet authenticated (at most `limits.maxHandshakes`). */
  handshakes: number
  /** Rooms with a member on this node. */
  rooms: number
  /** Bus subscriptions this node holds. */
  busSubscriptions: number
  /** This node's connections by role. */
  roles: Record<string, number>
  /** This node's client subscriptions by topic name (one per connection per stream). */
  topics: Record<string, number>
  /** Topic history on this node, counted since it started. */
  history: HistoryStats
  /** Cumulative traffic of this node since it started, kept with or without an OpenTelemetry SDK. */
  totals: ServerTotals
}

/** Cumulative counters of `ServerStats.totals`. */
export interface ServerTotals {
  /** Frames received from client sockets (handshake frames included). */
  framesIn: number
  /** Frames written to client sockets: one per recipient socket of a fan-out. */
  framesOut: number
  /** Bytes of the frames received (UTF-16 code units for a text frame: its bytes when ASCII). */
  bytesIn: number
  /** Bytes of the frames written, counted as `bytesIn`: one frame's size per recipient socket. */
  bytesOut: number
  /** Call frames answered. */
  calls: number
  /** Of those, the ones answered with an error. */
  callErrors: number
  /** Room broadcasts, topic publishes and `toConn` / `toUser` sends made on this node. */
  published: number
  /** Of those and of peers', deliveries to sockets on this node: one per recipient socket. */
  delivered: number
}

/** Recoveries this node answered and the store reads they cost. */
export interface HistoryStats {
  /** `sub` frames of history topics answered (fresh subscribes and recoveries alike). */
  subscribes: number
  /** Of those, the ones that came with a position (`since`, or a reconnect). */
  recoveries: number
  /** Of those, the ones answered `recovered: true`. */
  recovered: number
  /** Publications sent in replays. */
  replayed: number
  /** Store reads made for subscribes (shared reads count once). */
  reads: number
}

export interface Server<C extends AnyContract, Ctx extends BaseContext = BaseContext>
  extends AsyncDisposable,
    TopicApi<SharedMessages<C>, SharedTopicName<C>> {
  readonly nodeId: string
  /** This node's connections by id. */
  readonly connections: ReadonlyMap<string, Conn<C, RoleOf<C>, Ctx>>
  /** Starts the transport. Resolves with the port it listens on. */
  listen(): Promise<{ port: number }>
  /** Graceful: stop accepting, tell clients to reconnect elsewhere, drain calls, leave the cluster. */
  close(): Promise<void>
  /** A room by name (rooms exist while they have members). */
  room(name: string): Room<C>
  /** Names of the rooms with members anywhere in the cluster (replicated state). */
  rooms(): Promise<string[]>
  /** A connection anywhere in the cluster; shared events. */
  toConn(connId: string): Target<SharedMessages<C>, SharedEventName<C>>
  /** Every connection of a user, on every node; shared events. */
  toUser(userId: string): Target<SharedMessages<C>, SharedEventName<C>>
  /** Role events, delivered only to connections of that role. */
  forRole<R extends RoleOf<C>>(role: R): RoleScope<C, R>
  /** Live nodes of the cluster, this one included. */
  nodes(): NodeInfo[]
  /** Connections anywhere in the cluster (replicated state), filtered by node, role, user or room: at most `limit`. */
  fetchConnections(query?: ConnectionQuery): Promise<MemberInfo[]>
  /** Who is online, where (cluster-wide, replicated). */
  readonly presence: Presence
  stats(): ServerStats
}
