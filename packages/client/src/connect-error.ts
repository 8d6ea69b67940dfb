import { RtError } from '@rt/contract'

/** `data` of `client.lastError` and of the error a client gives up with: what went wrong, where. */
export interface ConnectErrorData {
  /** Where the client connected, without query string or user info (they may carry credentials). */
  url: string
  /** In short: `connect ECONNREFUSED 127.0.0.1:4000`, `HTTP 404`, `not an @rt server (…)`, `closed by the server with 1013 (…)`. */
  detail: string
  /** Close code of the failed or lost link (1006 when the socket never opened). */
  code?: number
  reason?: string
  /** On the error the client gives up with: attempts made in a row. */
  attempts?: number
}

/** What a browser tells about a failed WebSocket: nothing (a bare `error` Event, then 1006). */
export const NO_DETAIL = 'could not connect (no detail from the browser)'

/** The URL as shown in messages: no query, fragment or user info. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return url.split(/[?#]/)[0] ?? url
  }
}

/**
 * The detail of a WebSocket `error` event. The `ws` package's carries `message` and the
 * underlying `error` (with `code`, e.g. ECONNREFUSED); a browser's carries nothing.
 */
export function errorEventDetail(ev: unknown): { detail: string; cause?: unknown } {
  const e = (ev ?? {}) as { message?: unknown; error?: unknown }
  const message = typeof e.message === 'string' && e.message ? e.message : e.error instanceof Error ? e.error.message : ''
  if (!message) return { detail: NO_DETAIL }
  // ws: 'Unexpected server response: 404' when the server answers the upgrade with a status.
  const status = /^Unexpected server response: (\d{3})/.exec(message)
  return { detail: status ? `HTTP ${status[1]}` : message, cause: e.error ?? ev }
}

/** The detail of a close with no error event before it. */
export function closeDetail(code: number, reason: string): string {
  if (code === 1006 || code === 1005) return reason ? `${reason} (${code})` : `connection closed abnormally (${code})`
  return `closed by the server with ${code}${reason ? ` (${reason})` : ''}`
}

const HINTS: Record<string, string> = {
  'HTTP 404': 'no WebSocket endpoint at this path',
  'HTTP 503': 'the server is unavailable or shutting down',
}

/** A detail with what it means added, for messages. */
export function explain(data: Pick<ConnectErrorData, 'detail' | 'code'>): string {
  const { detail, code } = data
  if (detail === NO_DETAIL) return code === undefined ? detail : `${detail}, close code ${code}`
  const hint = HINTS[detail]
  if (hint) return `${detail} (${hint})`
  const status = /^HTTP (\d{3})$/.exec(detail)
  if (status && (Number(status[1]) < 400 || status[1] === '426')) return `${detail} (the server answered without upgrading to WebSocket)`
  return detail
}

/** Why an attempt failed (`connected: false`) or an open link was lost. */
export function connectError(data: ConnectErrorData, connected: boolean, cause?: unknown): RtError<ConnectErrorData> {
  const message = connected ? `Connection to ${data.url} lost: ${explain(data)}` : `Could not connect to ${data.url}: ${explain(data)}`
  return new RtError('CONNECTION_LOST', message, data, cause === undefined ? undefined : { cause })
}

/** The error the client gives up with after `attempts` failed attempts in a row. */
export function finalError(last: RtError<ConnectErrorData>, attempts: number): RtError<ConnectErrorData> {
  const data = { ...last.data!, attempts }
  const message = `Could not connect to ${data.url} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${explain(data)}`
  return new RtError('CONNECTION_LOST', message, data, { cause: last })
}
