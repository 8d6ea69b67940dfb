import { jsonEncoder } from '@rt/contract'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AuthRefresh } from './auth-refresh.js'
import type { Connection } from './connection.js'
import type { BaseContext } from './types.js'

const DAY = 86_400_000
const request = { url: '/', headers: {}, remoteAddress: '127.0.0.1' }

function fakeConn(ctx: BaseContext) {
  const sent: unknown[] = []
  const closes: [number, string][] = []
  const conn = {
    id: 'n.c1',
    role: 'user',
    ctx,
    expiry: undefined,
    closed: false,
    encoder: jsonEncoder,
    send: (f: string) => void sent.push(JSON.parse(f)),
    sendError: (id: number, e: { code: string }) => void sent.push({ id, code: e.code }),
    close(code: number, reason: string) {
      this.closed = true
      closes.push([code, reason])
    },
  }
  return { conn: conn as unknown as Connection, sent, closes }
}

describe('AuthRefresh', () => {
  beforeEach(() => void vi.useFakeTimers())
  afterEach(() => void vi.useRealTimers())
  const refresher = (authenticate = () => ({ user: { id: 'u' } }) as BaseContext) =>
    new AuthRefresh({ refreshAheadMs: 15_000, authenticate, report: () => {} })

  it('keeps nothing for a ctx that does not expire', () => {
    const { conn } = fakeConn({ user: { id: 'u' } })
    refresher().watch(conn, request)
    expect(conn.expiry).toBeUndefined()
  })

  it('reaches an expiry beyond the 24.8-day timer range in steps: asks 15 s before it, closes at it', () => {
    const expiresAt = Date.now() + 40 * DAY
    const { conn, sent, closes } = fakeConn({ user: { id: 'u' }, expiresAt })
    refresher().watch(conn, request)
    vi.advanceTimersByTime(40 * DAY - 15_001)
    expect(sent).toEqual([])
    vi.advanceTimersByTime(1)
    expect(sent).toEqual([{ t: 'refresh', x: expiresAt }])
    vi.advanceTimersByTime(15_000)
    expect(closes).toEqual([[4001, 'credentials expired']])
  })

  it('asks at half the time left when that is sooner, and not again after a refresh that does not move the expiry', async () => {
    const expiresAt = Date.now() + 1_000
    const { conn, sent } = fakeConn({ user: { id: 'u' }, expiresAt })
    const r = refresher(() => ({ user: { id: 'u' }, expiresAt }))
    r.watch(conn, request)
    vi.advanceTimersByTime(500)
    expect(sent).toEqual([{ t: 'refresh', x: expiresAt }])
    await r.refresh(conn, { t: 'auth', id: 1 })
    expect(sent.at(-1)).toEqual({ t: 'authed', id: 1, x: expiresAt })
    vi.advanceTimersByTime(499)
    expect(sent).toHaveLength(2)
  })
})
