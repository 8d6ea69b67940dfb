import { describe, expect, it } from 'vitest'
import { NO_DETAIL, closeDetail, connectError, displayUrl, errorEventDetail, finalError } from './connect-error.js'

describe('connect errors', () => {
  it('shows the URL without query, fragment or user info', () => {
    expect(displayUrl('wss://user:pw@rt.example.com/rt?token=secret#x')).toBe('wss://rt.example.com/rt')
    expect(displayUrl('ws://127.0.0.1:4000')).toBe('ws://127.0.0.1:4000')
  })

  it("reads the ws package's error events, and says when a browser gives nothing", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4000'), { code: 'ECONNREFUSED' })
    expect(errorEventDetail({ message: refused.message, error: refused })).toEqual({ detail: 'connect ECONNREFUSED 127.0.0.1:4000', cause: refused })
    expect(errorEventDetail({ message: 'Unexpected server response: 404', error: new Error('x') }).detail).toBe('HTTP 404')
    expect(errorEventDetail({ type: 'error' })).toEqual({ detail: NO_DETAIL })
    expect(errorEventDetail(undefined)).toEqual({ detail: NO_DETAIL })
  })

  it('describes closes, and explains statuses in the message', () => {
    expect(closeDetail(1013, 'auth service down')).toBe('closed by the server with 1013 (auth service down)')
    expect(closeDetail(1006, '')).toBe('connection closed abnormally (1006)')
    const url = 'ws://h'
    expect(connectError({ url, detail: 'HTTP 404' }, false).message).toBe('Could not connect to ws://h: HTTP 404 (no WebSocket endpoint at this path)')
    expect(connectError({ url, detail: 'HTTP 426' }, false).message).toBe('Could not connect to ws://h: HTTP 426 (the server answered without upgrading to WebSocket)')
    expect(connectError({ url, detail: NO_DETAIL, code: 1006 }, false).message).toBe(`Could not connect to ws://h: ${NO_DETAIL}, close code 1006`)
    expect(connectError({ url, detail: 'closed by the server with 1001', code: 1001 }, true).message).toBe('Connection to ws://h lost: closed by the server with 1001')
  })

  it('gives up with the attempts and the last reason, the last error as cause', () => {
    const last = connectError({ url: 'ws://h', detail: 'HTTP 503', code: 1006 }, false)
    const final = finalError(last, 4)
    expect(final).toMatchObject({ code: 'CONNECTION_LOST', message: 'Could not connect to ws://h after 4 attempts: HTTP 503 (the server is unavailable or shutting down)', data: { attempts: 4, detail: 'HTTP 503' } })
    expect(final.cause).toBe(last)
    expect(finalError(last, 1).message).toContain('after 1 attempt:')
  })
})
