import type {
  AnyContract,
  CallInput,
  CallOutput,
  Encoder,
  EventName,
  MessagesOf,
  ParamsIn,
  PayloadOut,
  ProcedureName,
  RoleOf,
  RtError,
  StreamPosition,
  TopicName,
} from '@rt/contract'
import type { ReconnectOptions } from './backoff.js'

/** `connecting` (first attempt), `open`, `reconnecting` (link lost, retrying), `closed` (for good). */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/**
 * The part of the WebSocket API the client uses: the browser's, or the `ws` package's.
 * Handler parameters are `any` so both implementations' own event types fit.
 */
export interface WebSocketLike {
  readonly readyState: number
  binaryType: string
  /** The subprotocol the server answered (both implementations have it). */
  readonly protocol?: string
  onopen: ((ev: any) => void) | null
  onmessage: ((ev: any) => void) | null
  onclose: ((ev: any) => void) | null
  onerror: ((ev: any) => void) | null
  send(data: string | Uint8Array): void
  close(code?: number, reason?: string): void
}

/** A WebSocket class: the browser's and the `ws` package's both fit. `protocols` is passed only when a codec other than JSON is asked for. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

export interface ClientOptions<R extends string> {
  /** ws:// or wss:// URL of an @rt server (or a function, called before every attempt). */
  url: string | (() => string)
  role: R
  /** Sent in the hello; a function is called again before every connection attempt and for every refresh the server asks for. */
  auth?: unknown | (() => unknown | Promise<unknown>)
  /** WebSocket implementation. @default globalThis.WebSocket (pass `ws` on Node 20) */
  WebSocket?: WebSocketConstructor
  reconnect?: ReconnectOptions | false
  /** Default timeout of a call, waiting time while offline included. @default 10_000 */
  callTimeoutMs?: number
  /** What a call does while disconnected: wait for the next connection, or fail at once. @default 'wait' */
  offline?: 'wait' | 'fail'
  /** How long an attempt may take from opening the socket to the server's `welcome`; then it fails (`not an @rt server`) and is retried. @default 10_000 */
  handshakeTimeoutMs?: number
  /** Validate inbound payloads and results against the contract. @default true */
  validate?: boolean
  /** The codec of this client's frames; another than JSON is asked for at connect with the subprotocol `rt.<name>` (a server not serving it closes with 4008). @default jsonEncoder */
  encoder?: Encoder
  /** Receives errors no promise can carry (a listener threw, a push failed validation). @default silent */
  onError?: (error: unknown) => void
}

export interface CallOptions {
  /** @default the client's callTimeoutMs */
  timeout?: number
  signal?: AbortSignal
  /** @default the client's `offline` option */
  offline?: 'wait' | 'fail'
}

type Caller<C extends AnyContract, R extends RoleOf<C>, P> =
  undefined extends CallInput<C, R, P>
    ? (input?: CallInput<C, R, P>, options?: CallOptions) => Promise<CallOutput<C, R, P>>
    : (input: CallInput<C, R, P>, options?: CallOptions) => Promise<CallOutput<C, R, P>>

export interface SubscribeOptions {
  /** Called when the server refuses the subscription (now, or when restoring it after a reconnect). */
  onError?: (error: RtError) => void
}

/** What a history topic's (re)subscription ended with: `onSubscribed`'s argument and what `ready` resolves with. */
export interface SubscribedInfo {
  /** Every publication after the position sent was delivered (possibly none). False when no position was sent. */
  recovered: boolean
  /** A position was sent with this subscription: it tried to recover. */
  wasRecovering: boolean
  /** The stream's top when the server answered: live publications continue after it. */
  offset: number
  epoch: string
}

/** Options of a history topic's subscription. */
export interface HistorySubscribeOptions extends SubscribeOptions {
  /** Called on every acknowledgement: the first subscribe, each resubscribe after a reconnect, each repair of a hole. */
  onSubscribed?: (info: SubscribedInfo) => void
  /** Start from a stored position (e.g. `sub.position` saved before a page reload). Applies when this creates the client's subscription to the stream. */
  since?: StreamPosition | undefined
}

/** Stops the subscription when called. `ready` settles with the server's first answer. */
export interface Subscription {
  (): void
  /** Resolves when the server acknowledges; rejects with its refusal (FORBIDDEN, NOT_FOUND, BAD_REQUEST, RATE_LIMITED, or what `authorize` threw), PAYLOAD_TOO_LARGE, or CONNECTION_LOST if the client closes first. */
  readonly ready: Promise<void>
}

/** A history topic's subscription: `ready` resolves with the first acknowledgement's info. */
export interface HistorySubscription {
  (): void
  /** Resolves with the first acknowledgement's info (as `onSubscribed` gets it); rejects as `Subscription['ready']` does. */
  readonly ready: Promise<SubscribedInfo>
  /** Position of the last publication delivered (or the top the server answered with); undefined before the first answer without `since`. */
  readonly position: StreamPosition | undefined
}

/** A plain topic's listener `meta`: no position. */
export interface PlainMeta {
  readonly offset?: undefined
  readonly epoch?: undefined
}

type IsHistory<M, T> = T extends keyof M ? (M[T] extends { history: object } ? true : false) : false

/** The listener's second argument: the publication's position for a history topic. */
export type TopicMeta<M, T> = IsHistory<M, T> extends true ? StreamPosition : PlainMeta

type Listener<M, T, P> = (payload: P, meta: TopicMeta<M, T>) => void
type OptionsOf<M, T> = IsHistory<M, T> extends true ? HistorySubscribeOptions : SubscribeOptions

type SubscribeArgs<M, T, P> =
  ParamsIn<M, T> extends undefined
    ? [listener: Listener<M, T, P>, options?: OptionsOf<M, T>]
    : [params: ParamsIn<M, T>, listener: Listener<M, T, P>, options?: OptionsOf<M, T>]

/** Info passed with a state change. */
export interface StateChange {
  state: ClientState
  /** Close code of the link that dropped, when there was one. */
  code?: number
  reason?: string
  /** Why the client is not connected (as `client.lastError`): set on `closed`, and on `connecting`/`reconnecting` after a failed attempt or a lost link. */
  error?: Error
  /** On `connecting`/`reconnecting`: the number of the retry now scheduled (1 = the first). */
  attempt?: number
  /** On `connecting`/`reconnecting`: milliseconds until that retry. */
  delayMs?: number
}

export interface Client<C extends AnyContract, R extends RoleOf<C>> extends AsyncDisposable {
  /** One typed function per procedure of the role (own and shared). */
  readonly call: { readonly [P in ProcedureName<C, R>]: Caller<C, R, P> }
  /** Listens to an event; returns a function that stops listening. */
  on<E extends EventName<C, R>>(event: E, listener: (payload: PayloadOut<MessagesOf<C, R>, E>) => void): () => void
  /** Opts into a topic stream; restored after every reconnect. */
  subscribe<T extends TopicName<C, R>>(
    topic: T,
    ...args: SubscribeArgs<MessagesOf<C, R>, T, PayloadOut<MessagesOf<C, R>, T>>
  ): IsHistory<MessagesOf<C, R>, T> extends true ? HistorySubscription : Subscription
  readonly state: ClientState
  onStateChange(listener: (change: StateChange) => void): () => void
  /** Id of the current connection (changes on every reconnect). */
  readonly connId: string | undefined
  /** Node the client is connected to. */
  readonly nodeId: string | undefined
  /** Why the client is not connected: the last failed attempt or lost link (`data`: ConnectErrorData), or why it closed. Undefined while open. */
  readonly lastError: RtError | undefined
  /** Resolves when the client is open (at once if it is). Rejects if it closes for good first. */
  ready(): Promise<void>
  /** Sends fresh credentials (the `auth` option, called again) on the open connection; resolves once the server accepted them, rejects UNAUTHORIZED (or FORBIDDEN) when it refused them and closed. */
  refreshAuth(): Promise<void>
  /** Closes for good; pending calls reject with CONNECTION_LOST. */
  close(): Promise<void>
}
