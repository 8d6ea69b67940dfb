import type { Encoder, Frame } from './encoder.js'
import { RtError, isRtErrorCode } from './errors.js'
import {
  CloseCode,
  TERMINAL_CLOSE_CODES,
  type AuthFrame,
  type AuthedFrame,
  type CallFrame,
  type ClientFrame,
  type ErrorFrame,
  type HelloFrame,
  type PingFrame,
  type PongFrame,
  type RefreshFrame,
  type ResultFrame,
  type ServerFrame,
  type SubFrame,
  type TraceCarrier,
  type UnsubFrame,
  type WelcomeFrame,
} from './protocol.js'

// The one place frames are guarded, errors put on the wire and close codes mapped to errors:
// the server and the client both go through these functions and nothing else.

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** Bounds of a trace carrier: W3C `traceparent`, `tracestate` and `baggage` fit well within them. */
export const TRACE_CARRIER_LIMITS = { keys: 8, keyLength: 64, valueLength: 1024, totalLength: 4096 } as const

const CARRIER_KEY = /^[A-Za-z0-9_.-]+$/

/** True for a plain object of at most 8 short string fields (keys letters, digits, `_.-`): what a propagator may read. */
export function isTraceCarrier(v: unknown): v is TraceCarrier {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) return false
  const keys = Object.keys(v)
  if (keys.length > TRACE_CARRIER_LIMITS.keys) return false
  let total = 0
  for (const k of keys) {
    const value = (v as Record<string, unknown>)[k]
    if (typeof value !== 'string' || k.length > TRACE_CARRIER_LIMITS.keyLength || value.length > TRACE_CARRIER_LIMITS.valueLength) return false
    if (!CARRIER_KEY.test(k) || (total += k.length + value.length) > TRACE_CARRIER_LIMITS.totalLength) return false
  }
  return true
}

/** Checks the shape of a decoded client frame; returns null when it is not valid protocol. */
export function parseClientFrame(raw: unknown): ClientFrame | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null
  const f = raw as Record<string, unknown>
  switch (f.t) {
    case 'call':
      if (!isInt(f.id) || !isName(f.p)) return null
      // A bad carrier costs the caller its trace, never its call.
      if (f.tc !== undefined && !isTraceCarrier(f.tc)) delete f.tc
      return f as unknown as CallFrame
    case 'ping':
    case 'pong':
      return f as unknown as PingFrame | PongFrame
    case 'sub':
      // `s` (a recovery position) is checked by the server's topic hub, which answers a malformed one with BAD_REQUEST and the sub's id.
      return isInt(f.id) && isName(f.n) ? (f as unknown as SubFrame) : null
    case 'unsub':
      return isName(f.n) && typeof f.k === 'string' ? (f as unknown as UnsubFrame) : null
    case 'hello':
      return typeof f.v === 'number' && isName(f.role) ? (f as unknown as HelloFrame) : null
    case 'auth':
      // `auth` is the application's to check, as in the hello: `authenticate` gets it untouched.
      return isInt(f.id) ? (f as unknown as AuthFrame) : null
    default:
      return null
  }
}

/** Checks the shape of a decoded server frame; returns null when it is not valid protocol. */
export function parseServerFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null
  const f = raw as Record<string, unknown>
  switch (f.t) {
    case 'event':
    case 'pub':
      return isName(f.n) ? (f as unknown as ServerFrame) : null
    case 'result':
      return isInt(f.id) ? (f as unknown as ResultFrame) : null
    case 'error':
      return typeof f.code === 'string' && typeof f.message === 'string' ? (f as unknown as ErrorFrame) : null
    case 'ping':
    case 'pong':
    case 'goaway':
      return f as unknown as ServerFrame
    case 'welcome':
      return typeof f.conn === 'string' && typeof f.node === 'string' && typeof f.hb === 'number'
        ? (f as unknown as WelcomeFrame)
        : null
    case 'refresh':
      return isTime(f.x) ? (f as unknown as RefreshFrame) : null
    case 'authed':
      return isInt(f.id) && (f.x === undefined || isTime(f.x)) ? (f as unknown as AuthedFrame) : null
    default:
      return null
  }
}

/** Decodes and checks a frame from a client; null when it is not valid protocol (never throws on bad input). */
export function decodeClientFrame(encoder: Encoder, data: Frame): ClientFrame | null {
  let raw: unknown
  try {
    raw = encoder.decode(data)
  } catch {
    return null
  }
  return parseClientFrame(raw)
}

/** Decodes and checks a frame from a server; null when it is not valid protocol (never throws on bad input). */
export function decodeServerFrame(encoder: Encoder, data: Frame): ServerFrame | null {
  let raw: unknown
  try {
    raw = encoder.decode(data)
  } catch {
    return null
  }
  return parseServerFrame(raw)
}

/** The `error` frame that sends `err`: answering call or sub `id`, or nothing in particular. */
export function errorFrame(id: number | undefined, err: RtError): ErrorFrame {
  // Field order as in docs/protocol.md: t, id, code, message, data.
  const f: ErrorFrame = id === undefined ? { t: 'error', code: err.code, message: err.message } : { t: 'error', id, code: err.code, message: err.message }
  if (err.data !== undefined) f.data = err.data
  return f
}

/** The RtError an `error` frame carries; a code this version does not know becomes INTERNAL. */
export function errorFromFrame(f: ErrorFrame): RtError {
  return new RtError(isRtErrorCode(f.code) ? f.code : 'INTERNAL', f.message, f.data)
}

/**
 * The close code for a handshake that `authenticate` refused with `err`: 4003 for FORBIDDEN,
 * 1013 (retry later) for a passing failure (UNAVAILABLE, TIMEOUT, RATE_LIMITED), otherwise 4001.
 */
export function closeCodeFor(err: unknown): number {
  if (!(err instanceof RtError)) return CloseCode.UNAUTHORIZED
  if (err.code === 'FORBIDDEN') return CloseCode.FORBIDDEN
  if (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT' || err.code === 'RATE_LIMITED') return CloseCode.TRY_AGAIN_LATER
  return CloseCode.UNAUTHORIZED
}

/**
 * The error a client stops with after a close with `code`, or undefined when the code is worth
 * a retry. 1000 is CONNECTION_LOST, 4001 UNAUTHORIZED, 4003 FORBIDDEN, 4007 and 4008 BAD_REQUEST;
 * the close reason is the message.
 */
export function errorForClose(code: number, reason: string): RtError | undefined {
  if (!TERMINAL_CLOSE_CODES.has(code)) return undefined
  const kind = code === CloseCode.UNAUTHORIZED ? 'UNAUTHORIZED' : code === CloseCode.FORBIDDEN ? 'FORBIDDEN' : code === CloseCode.NORMAL ? 'CONNECTION_LOST' : 'BAD_REQUEST'
  return new RtError(kind, reason || (code === CloseCode.NORMAL ? 'Closed by the server' : `Closed with ${code}`))
}
