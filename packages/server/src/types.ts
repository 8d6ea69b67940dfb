import type {
  AnyContract,
  Bus,
  Encoder,
  EventName,
  HandlerOutput,
  MessagesOf,
  PayloadIn,
  ProcedureInput,
  RoleOf,
  RoleProcedures,
  SharedProcedures,
} from '@rt/contract'
import type { Limits } from './limits.js'
import type { Transport, TransportRequest } from './transport.js'

/** What `authenticate` must return at least: the connection's user. */
export interface BaseContext {
  user: { id: string }
}

/** Why a connection ended: the WebSocket close code and reason. */
export interface DisconnectReason {
  code: number
  reason: string
}

/** One client connection on this node, scoped to its role's vocabulary. */
export interface Conn<C extends AnyContract, R extends RoleOf<C> = RoleOf<C>, Ctx extends BaseContext = BaseContext> {
  /** Unique in the cluster; names the node that holds the connection. */
  readonly id: string
  readonly role: R
  readonly ctx: Ctx
  /** The node that holds this connection. */
  readonly nodeId: string
  /** Connected since (ms since epoch). */
  readonly since: number
  /** Pushes an event to this connection only, on this node. */
  emit<E extends EventName<C, R>>(event: E, payload: PayloadIn<MessagesOf<C, R>, E>): void
  /** Closes the connection with a WebSocket close code. @default 1000 */
  close(code?: number, reason?: string): void
}

export type Handler<C extends AnyContract, R extends RoleOf<C>, P, Ctx extends BaseContext> = (
  input: ProcedureInput<C, R, P>,
  ctx: Ctx,
  conn: Conn<C, R, Ctx>,
) => HandlerOutput<C, R, P> | Promise<HandlerOutput<C, R, P>>

type RoleHandlers<C extends AnyContract, R extends RoleOf<C>, Ctx extends BaseContext> = {
  [P in keyof RoleProcedures<C, R> & string]: Handler<C, R, P, Ctx>
}
type SharedHandlers<C extends AnyContract, Ctx extends BaseContext> = {
  [P in keyof SharedProcedures<C> & string]: Handler<C, RoleOf<C>, P, Ctx>
}

/** Every procedure of the contract needs a handler: a missing one is a compile error. */
export type Handlers<C extends AnyContract, Ctx extends BaseContext> = {
  [R in RoleOf<C> as {} extends RoleProcedures<C, R> ? never : R]: RoleHandlers<C, R, Ctx>
} & {
  [R in RoleOf<C> as {} extends RoleProcedures<C, R> ? R : never]?: {}
} & ({} extends SharedProcedures<C> ? { shared?: {} } : { shared: SharedHandlers<C, Ctx> })

export interface AuthenticateInput<C extends AnyContract> {
  role: RoleOf<C>
  /** Whatever the client passed as `auth`. Untrusted. */
  auth: unknown
  request: TransportRequest
}

/** Where an error reported to `onError` happened. */
export interface ErrorContext {
  where: 'handler' | 'authenticate' | 'onConnection' | 'onDisconnect' | 'output' | 'bus' | 'transport' | 'listener'
  connId?: string
  procedure?: string
}

export interface ServerOptions<C extends AnyContract, Ctx extends BaseContext> {
  contract: C
  transport: Transport
  /** The cluster bus. @default an in-memory bus (single node) */
  bus?: Bus
  /** Checks the client's hello; returns ctx (with `user.id`) or throws to refuse (close 4001). */
  authenticate: (input: AuthenticateInput<C>) => Ctx | Promise<Ctx>
  handlers: Handlers<C, Ctx>
  onConnection?: (conn: Conn<C, RoleOf<C>, Ctx>, ctx: Ctx) => void | Promise<void>
  onDisconnect?: (conn: Conn<C, RoleOf<C>, Ctx>, ctx: Ctx, reason: DisconnectReason) => void | Promise<void>
  limits?: Partial<Limits>
  /** Allowed values of the Origin header; requests from others get HTTP 403. @default any origin */
  origins?: readonly string[] | ((origin: string | undefined) => boolean)
  /** Validate handler outputs and pushed payloads against the contract. @default true unless NODE_ENV is production */
  validateOutput?: boolean
  /** @default jsonEncoder */
  encoder?: Encoder
  /** Receives errors that are not the client's fault (handler crashes, hook failures). @default writes to stderr */
  onError?: (error: unknown, context: ErrorContext) => void
  /** This node's id. @default a random id */
  nodeId?: string
}

export interface Server<C extends AnyContract, Ctx extends BaseContext = BaseContext> extends AsyncDisposable {
  readonly nodeId: string
  /** This node's connections by id. */
  readonly connections: ReadonlyMap<string, Conn<C, RoleOf<C>, Ctx>>
  /** Starts the transport. Resolves with the port it listens on. */
  listen(): Promise<{ port: number }>
  /** Graceful: stop accepting, tell clients to reconnect elsewhere, drain calls, leave the cluster. */
  close(): Promise<void>
}
