/** Every error code @rt sends or raises. */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TIMEOUT',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'CONFLICT',
  'INTERNAL',
  'CONNECTION_LOST',
  'UNAVAILABLE',
] as const

export type RtErrorCode = (typeof ERROR_CODES)[number]

const CODES: ReadonlySet<string> = new Set(ERROR_CODES)

export function isRtErrorCode(value: unknown): value is RtErrorCode {
  return typeof value === 'string' && CODES.has(value)
}

/** The one error type of @rt: thrown by handlers to send a typed error, and raised by the client. */
export class RtError<TData = unknown> extends Error {
  override readonly name = 'RtError'
  readonly code: RtErrorCode
  readonly data: TData | undefined

  constructor(code: RtErrorCode, message?: string, data?: TData, options?: { cause?: unknown }) {
    super(message ?? code, options)
    this.code = code
    this.data = data
  }
}

/**
 * Server code pushed what its own contract forbids: an event outside the vocabulary, a payload
 * that fails its schema. It keeps its code for the server code that made the push (`NOT_FOUND`,
 * `BAD_REQUEST`), but when it ends a client's call or subscription `toRtError` makes it INTERNAL:
 * the bug is the server's, and its details are not the caller's to see.
 */
export class ContractViolation<TData = unknown> extends RtError<TData> {}

export function isRtError(value: unknown): value is RtError {
  return value instanceof RtError
}

/**
 * Turns anything thrown into an RtError. An RtError passes through; anything else (and a
 * `ContractViolation`) becomes INTERNAL with the original kept as `cause` (never sent over the wire).
 */
export function toRtError(value: unknown): RtError {
  if (value instanceof RtError && !(value instanceof ContractViolation)) return value
  return new RtError('INTERNAL', 'Internal server error', undefined, { cause: value })
}
