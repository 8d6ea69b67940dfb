import type { RtErrorCode } from './errors.js'
import type { SchemaIssue } from './schema.js'

/** Wire protocol version. A client speaking another version is closed with UNSUPPORTED_VERSION. */
export const PROTOCOL_VERSION = 1

/** WebSocket close codes @rt uses: below 4000 the standard ones, from 4000 on @rt's own. */
export const CloseCode = {
  /** Closed on purpose: by the server (`conn.close()`), the client does not reconnect. */
  NORMAL: 1000,
  /** The server is shutting down (sent after a `goaway`): reconnect, possibly elsewhere. */
  GOING_AWAY: 1001,
  /** A frame exceeded `limits.maxFrameBytes`. */
  MESSAGE_TOO_BIG: 1009,
  /** `authenticate` failed for a passing reason (it threw UNAVAILABLE, TIMEOUT or RATE_LIMITED), or the node holds too much for handshakes: retry later. */
  TRY_AGAIN_LATER: 1013,
  /** A frame that is not valid @rt protocol, a message before `hello`, too much sent during the handshake, or a frame the server could not answer. */
  PROTOCOL_ERROR: 4000,
  /** `authenticate` refused (threw), the role is unknown, or the credentials expired without a refresh. The client does not retry. */
  UNAUTHORIZED: 4001,
  /** No `hello` within `limits.handshakeTimeoutMs`. */
  HANDSHAKE_TIMEOUT: 4002,
  /** The request's Origin is not allowed, or `authenticate` threw FORBIDDEN. The client does not retry. */
  FORBIDDEN: 4003,
  /** Nothing heard within the dead-link timeout. */
  HEARTBEAT_TIMEOUT: 4004,
  /** Outbound buffer over `limits.maxBufferedBytes`: the client reads too slowly. */
  SLOW_CONSUMER: 4005,
  /** Too many frames in a row over the rate limit or malformed, or inbound bytes over the byte budget. */
  RATE_LIMITED: 4006,
  /** The client speaks another protocol version. The client does not retry. */
  UNSUPPORTED_VERSION: 4007,
  /** The client asked (with its WebSocket subprotocol) for a codec the server does not serve. The client does not retry. */
  UNSUPPORTED_CODEC: 4008,
} as const

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

/** Close codes after which a client stops reconnecting: retrying cannot help. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.UNAUTHORIZED,
  CloseCode.FORBIDDEN,
  CloseCode.UNSUPPORTED_VERSION,
  CloseCode.UNSUPPORTED_CODEC,
])

// ---- client → server -------------------------------------------------------------------
export interface HelloFrame { t: 'hello'; v: number; role: string; auth?: unknown }
/** `tc`: the caller's trace context (a propagator carrier, e.g. `traceparent`); see docs/protocol.md. */
export interface CallFrame { t: 'call'; id: number; p: string; d?: unknown; tc?: TraceCarrier }
/** A trace-context carrier as it travels on the wire: a few short string fields (see `isTraceCarrier`). */
export type TraceCarrier = Record<string, string>
/** `s`: for a history topic, the position to recover from (`o` offset, `e` epoch). */
export interface SubFrame { t: 'sub'; id: number; n: string; q?: unknown; s?: { o: number; e: string } }
export interface UnsubFrame { t: 'unsub'; n: string; k: string }
export interface PingFrame { t: 'ping' }
export interface PongFrame { t: 'pong' }
/** Fresh credentials for an open connection (asked for by `refresh`, or pushed by the client); `id` pairs it with its `authed`. */
export interface AuthFrame { t: 'auth'; id: number; auth?: unknown }
export type ClientFrame = HelloFrame | CallFrame | SubFrame | UnsubFrame | PingFrame | PongFrame | AuthFrame

// ---- server → client -------------------------------------------------------------------
/** `hb`: the server's ping interval (ms); `mf`: the largest frame it accepts (bytes); `x`: when the credentials expire (ms since epoch), if they do. */
export interface WelcomeFrame { t: 'welcome'; v: number; conn: string; node: string; hb: number; mf: number; x?: number }
export interface ResultFrame { t: 'result'; id: number; d?: unknown }
export interface ErrorFrame { t: 'error'; id?: number; code: RtErrorCode; message: string; data?: unknown }
export interface EventFrame { t: 'event'; n: string; d: unknown }
/** A topic message. `k` names the stream (canonical params key, '' without params); `o`/`e`: its position, history topics only. */
export interface PubFrame { t: 'pub'; n: string; k: string; d: unknown; o?: number; e?: string }
export interface GoawayFrame { t: 'goaway'; reason: string }
/** The credentials expire soon: send an `auth` frame before they do (ms since epoch, `x`). */
export interface RefreshFrame { t: 'refresh'; x: number }
/** The `auth` frame `id` was accepted; `x`: when the new credentials expire, if they do. */
export interface AuthedFrame { t: 'authed'; id: number; x?: number }
export type ServerFrame = WelcomeFrame | ResultFrame | ErrorFrame | EventFrame | PubFrame | GoawayFrame | PingFrame | PongFrame | RefreshFrame | AuthedFrame

/** Data of a BAD_REQUEST error caused by schema validation. */
export interface ValidationErrorData { issues: SchemaIssue[] }

/** Acknowledgement of a `sub`: the stream key the server assigned. */
/**
 * Acknowledgement of a `sub`: the stream key the server assigned. For a history topic also `r`
 * (recovered: every publication after the `s` position is delivered, replayed right after this
 * ack), and `o`/`e`, the position live publications continue from (the replay ends there).
 */
export interface SubAck { k: string; r?: boolean; o?: number; e?: string }

/** Every frame that crosses the wire, in either direction: what an `Encoder` encodes. */
export type WireFrame = ClientFrame | ServerFrame
