import { CloseCode, RtError, closeCodeFor, type AuthFrame } from '@rt/contract'
import { closeReason } from './close-reason.js'
import type { Connection } from './connection.js'
import type { TransportRequest } from './transport.js'
import type { BaseContext, ErrorContext } from './types.js'

/** A connection's expiring credentials: when to ask, when to give up, and what to re-run `authenticate` with. */
export interface Expiry {
  expiresAt: number
  /** When to send `refresh`; Infinity once sent, or when a refresh did not move the expiry. */
  askAt: number
  timer: ReturnType<typeof setTimeout> | undefined
  /** Kept only for connections that expire: a refresh passes the connection's own upgrade request. */
  readonly request: TransportRequest
  /** An `auth` frame is being checked. */
  running: boolean
}

/** What refreshing needs from its node. */
export interface AuthRefreshOptions {
  readonly refreshAheadMs: number
  authenticate(input: { role: string; auth: unknown; request: TransportRequest; refresh: true }): BaseContext | Promise<BaseContext>
  report(error: unknown, context: ErrorContext): void
}

// setTimeout fires at once beyond 2^31 - 1 ms: a far expiry is reached in steps.
const MAX_DELAY = 2 ** 31 - 1

const NO_EXPIRY = new RtError('BAD_REQUEST', 'The credentials of this connection do not expire')
const BUSY = new RtError('CONFLICT', 'A refresh is already running')

/** Checks what `authenticate` returned: a ctx with `user.id`, and `expiresAt` a finite number when present. */
export function checkCtx(ctx: BaseContext): BaseContext {
  if (typeof ctx?.user?.id !== 'string' || ctx.user.id === '') throw new TypeError('authenticate must return { user: { id: string } }')
  if (ctx.expiresAt !== undefined && !Number.isFinite(ctx.expiresAt)) throw new TypeError('authenticate: expiresAt must be a number (ms since epoch)')
  return ctx
}

/**
 * In-band credential refresh: a `refresh` frame ahead of `ctx.expiresAt`, the client's `auth`
 * frame re-run through `authenticate`, and a 4001 close at the expiry without one accepted.
 */
export class AuthRefresh {
  constructor(private readonly o: AuthRefreshOptions) {}

  /** Starts the clock of a connection whose ctx expires; nothing for one that does not. */
  watch(conn: Connection, request: TransportRequest): void {
    const at = conn.ctx.expiresAt
    if (at === undefined) return
    conn.expiry = { expiresAt: at, askAt: this.askAt(at), timer: undefined, request, running: false }
    this.arm(conn)
  }

  /** The connection is gone: its timer goes with it. */
  drop(conn: Connection): void {
    if (conn.expiry) clearTimeout(conn.expiry.timer)
  }

  /** An `auth` frame: re-runs `authenticate`, then replaces the ctx and answers `authed`, or closes the connection. */
  async refresh(conn: Connection, f: AuthFrame): Promise<void> {
    const e = conn.expiry
    if (!e) return conn.sendError(f.id, NO_EXPIRY)
    if (e.running) return conn.sendError(f.id, BUSY)
    e.running = true
    let ctx: BaseContext
    try {
      ctx = checkCtx(await this.o.authenticate({ role: conn.role, auth: f.auth, request: e.request, refresh: true }))
      if (ctx.user.id !== conn.ctx.user.id) throw new RtError('UNAUTHORIZED', 'refresh changed the user')
      if (ctx.expiresAt !== undefined && ctx.expiresAt <= Date.now()) throw new RtError('UNAUTHORIZED', 'credentials expired')
    } catch (err) {
      e.running = false
      if (!(err instanceof RtError)) this.o.report(err, { where: 'authenticate', connId: conn.id })
      return conn.close(closeCodeFor(err), err instanceof RtError ? closeReason(err.message) : 'unauthorized')
    }
    e.running = false
    if (conn.closed) return
    conn.ctx = ctx
    clearTimeout(e.timer)
    const at = ctx.expiresAt
    if (at === undefined) {
      conn.expiry = undefined
      return conn.send(conn.encoder.encode({ t: 'authed', id: f.id }))
    }
    // A refresh that does not push the expiry back is not asked for again: the close at it follows.
    e.askAt = at > e.expiresAt ? this.askAt(at) : Infinity
    e.expiresAt = at
    this.arm(conn)
    conn.send(conn.encoder.encode({ t: 'authed', id: f.id, x: at }))
  }

  private askAt(expiresAt: number): number {
    return expiresAt - Math.min(this.o.refreshAheadMs, (expiresAt - Date.now()) / 2)
  }

  private arm(conn: Connection): void {
    const e = conn.expiry!
    const next = Math.min(e.askAt, e.expiresAt)
    e.timer = setTimeout(() => this.tick(conn), Math.min(MAX_DELAY, Math.max(0, next - Date.now())))
    ;(e.timer as { unref?: () => void }).unref?.()
  }

  private tick(conn: Connection): void {
    const e = conn.expiry
    if (!e || conn.closed) return
    const now = Date.now()
    if (now >= e.expiresAt) return conn.close(CloseCode.UNAUTHORIZED, 'credentials expired')
    if (now >= e.askAt) {
      e.askAt = Infinity
      try {
        conn.send(conn.encoder.encode({ t: 'refresh', x: e.expiresAt }))
      } catch (err) {
        this.o.report(err, { where: 'frame', connId: conn.id })
      }
    }
    this.arm(conn)
  }
}
