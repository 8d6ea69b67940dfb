import { CloseCode, RtError, defineContract, jsonEncoder, type Frame } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Connection } from './connection.js'
import { Codecs } from './codecs.js'
import { Handshakes, type HandshakeOptions } from './handshake.js'
import { resolveLimits, type Limits } from './limits.js'
import { resolveRoles } from './roles.js'
import { Telemetry } from './telemetry/telemetry.js'
import type { SocketListener, TransportRequest, TransportSocket } from './transport.js'
import type { BaseContext, DisconnectReason } from './types.js'

const contract = defineContract({ roles: { user: { clientToServer: { ping: { input: z.object({}), output: z.object({}) } } } } })
const { entries } = resolveRoles(contract, { user: { ping: () => ({}) } })

/** A socket whose transport takes a new listener when the handshake ends (as ws and uWS do). */
class RebindingSocket implements TransportSocket {
  readonly sent: unknown[] = []
  closedWith: [number, string | undefined] | undefined
  bufferedAmount = 0
  readonly listeners: SocketListener[] = []
  send(frame: Frame): void {
    this.sent.push(jsonEncoder.decode(frame))
  }
  close(code: number, reason?: string): void {
    this.closedWith ??= [code, reason]
  }
  rebind(listener: SocketListener): void {
    this.listeners.push(listener)
  }
}

class FakeSocket implements TransportSocket {
  readonly sent: unknown[] = []
  closedWith: [number, string | undefined] | undefined
  bufferedAmount = 0
  send(frame: Frame): void {
    this.sent.push(jsonEncoder.decode(frame))
  }
  close(code: number, reason?: string): void {
    this.closedWith ??= [code, reason]
  }
}

const request = (remoteAddress = '10.0.0.1', origin?: string): TransportRequest => ({ url: '/', headers: { origin }, remoteAddress })
const text = (f: unknown) => JSON.stringify(f)
const HELLO = text({ t: 'hello', v: 1, role: 'user', auth: 'token' })
const tick = () => new Promise((r) => setTimeout(r, 0))

function setup(o: { limits?: Partial<Limits>; authenticate?: HandshakeOptions['authenticate']; onConnection?: HandshakeOptions['onConnection'] } = {}) {
  const received: Frame[] = []
  const detached: DisconnectReason[] = []
  const reports: unknown[] = []
  let draining = false
  const hs = new Handshakes({
    limits: resolveLimits({ handshakeTimeoutMs: 60_000, ...o.limits }),
    codecs: new Codecs([jsonEncoder]),
    roles: entries,
    telemetry: new Telemetry(),
    get draining() {
      return draining
    },
    allowOrigin: (origin) => origin !== 'https://evil.example',
    authenticate: o.authenticate ?? (({ auth }) => ({ user: { id: String(auth) } })),
    onConnection: o.onConnection,
    connect(_entry, ctx: BaseContext, socket) {
      const conn = { id: `n.${ctx.user.id}`, nodeId: 'n', closed: false, encoder: jsonEncoder, send: (f: Frame) => socket.send(f), receive: (f: Frame) => void received.push(f) }
      return conn as unknown as Connection
    },
    watch() {},
    detach: (_c, reason) => void detached.push(reason),
    report: (e) => void reports.push(e),
  })
  const open = (req = request()) => {
    const socket = new FakeSocket()
    const listener = hs.open(socket, req)
    return { socket, listener }
  }
  const openRebinding = (req = request()) => {
    const socket = new RebindingSocket()
    const listener = hs.open(socket, req)
    return { socket, listener }
  }
  return { hs, open, openRebinding, received, detached, reports, drain: () => (draining = true) }
}

describe('Handshakes', () => {
  it('welcomes an authenticated hello, then replays the frames held meanwhile, in order', async () => {
    let release!: () => void
    const { open, received } = setup({ onConnection: () => new Promise<void>((r) => (release = r)) })
    const { socket, listener } = open()
    listener.message(HELLO)
    listener.message('first')
    await tick()
    listener.message('second')
    expect(socket.sent).toEqual([{ t: 'welcome', v: 1, conn: 'n.token', node: 'n', hb: 15_000, mf: 1 << 20 }])
    expect(received).toEqual([])
    release()
    await tick()
    listener.message('third')
    expect(received).toEqual(['first', 'second', 'third'])
    expect(socket.closedWith).toBeUndefined()
  })

  it('refuses what is not a proper hello: another frame first 4000, another version 4007, an unknown role 4001', async () => {
    const { open } = setup()
    const cases: [string, [number, string]][] = [
      [text({ t: 'ping' }), [CloseCode.PROTOCOL_ERROR, 'expected hello']],
      ['{oops', [CloseCode.PROTOCOL_ERROR, 'expected hello']],
      [text({ t: 'hello', v: 2, role: 'user' }), [CloseCode.UNSUPPORTED_VERSION, 'protocol version 1 required']],
      [text({ t: 'hello', v: 1, role: 'admin' }), [CloseCode.UNAUTHORIZED, 'unknown role "admin"']],
    ]
    for (const [frame, closed] of cases) {
      const { socket, listener } = open()
      listener.message(frame)
      await tick()
      expect(socket.closedWith).toEqual(closed)
    }
  })

  it('closes a refused authenticate with the code closeCodeFor gives, and reports only what is not an RtError', async () => {
    const throws: unknown[] = [new RtError('FORBIDDEN', 'banned'), new RtError('UNAVAILABLE', 'db down'), new RtError('UNAUTHORIZED', 'bad token'), new Error('bug')]
    let next = 0
    const { open, reports } = setup({
      authenticate: () => {
        throw throws[next++]
      },
    })
    const closes: unknown[] = []
    for (let i = 0; i < throws.length; i++) {
      const { socket, listener } = open()
      listener.message(HELLO)
      await tick()
      closes.push(socket.closedWith)
    }
    expect(closes).toEqual([
      [CloseCode.FORBIDDEN, 'banned'],
      [CloseCode.TRY_AGAIN_LATER, 'db down'],
      [CloseCode.UNAUTHORIZED, 'bad token'],
      [CloseCode.UNAUTHORIZED, 'unauthorized'],
    ])
    expect(reports).toEqual([throws[3]])
  })

  it('bounds what is held during authentication, per socket (4000) and in total (1013)', async () => {
    const never = () => new Promise<BaseContext>(() => {})
    const { open, hs } = setup({ limits: { maxHandshakeBytes: 10, maxHandshakeBytesTotal: 15 }, authenticate: never })
    const a = open()
    a.listener.message(HELLO)
    a.listener.message('x'.repeat(8))
    a.listener.message('x'.repeat(3))
    expect(a.socket.closedWith).toEqual([CloseCode.PROTOCOL_ERROR, 'too much sent before the connection was ready'])
    a.listener.close(4000, '')
    expect(hs.heldBytes).toBe(0)
    const b = open()
    const c = open()
    b.listener.message(HELLO)
    c.listener.message(HELLO)
    b.listener.message('x'.repeat(9))
    c.listener.message('x'.repeat(9))
    expect([b.socket.closedWith, c.socket.closedWith]).toEqual([undefined, [CloseCode.TRY_AGAIN_LATER, 'server busy']])
  })

  it('admits upgrades within the caps, refuses a bad origin with 4003, and closes pending handshakes at shutdown', () => {
    const { open, hs, drain } = setup({ limits: { maxHandshakes: 2, maxConnectionsPerIp: 1 } })
    expect(hs.upgrade(request('1.1.1.1'))).toBe(true)
    const first = open(request('1.1.1.1'))
    expect(hs.upgrade(request('1.1.1.1'))).toEqual({ status: 429, message: 'Too many connections from this address' })
    open(request('2.2.2.2'))
    expect(hs.upgrade(request('3.3.3.3'))).toEqual({ status: 503, message: 'Too many handshakes in progress' })
    first.listener.close(1006, '')
    expect(hs.upgrade(request('1.1.1.1'))).toBe(true)
    const evil = open(request('4.4.4.4', 'https://evil.example'))
    expect(evil.socket.closedWith).toEqual([CloseCode.FORBIDDEN, 'origin not allowed'])
    const pending = open(request('5.5.5.5'))
    hs.closeAll()
    expect(pending.socket.closedWith).toEqual([CloseCode.GOING_AWAY, 'server shutting down'])
    drain()
    expect(hs.upgrade(request('6.6.6.6'))).toEqual({ status: 503, message: 'Server shutting down' })
  })

  it('hands an open connection to a listener of its own once the handshake ends (rebind): frames, caps and close go through it', async () => {
    let release!: () => void
    const { openRebinding, hs, received, detached } = setup({ limits: { maxConnectionsPerIp: 1 }, onConnection: () => new Promise<void>((r) => (release = r)) })
    const { socket, listener } = openRebinding(request('7.7.7.7'))
    listener.message(HELLO)
    listener.message('held')
    await tick()
    // Still in the handshake (onConnection runs): no handoff yet, the frame is held.
    expect(socket.listeners).toEqual([])
    release()
    await tick()
    expect(received).toEqual(['held'])
    expect(socket.listeners).toHaveLength(1)
    const link = socket.listeners[0]!
    expect(link).not.toBe(listener)
    link.message('after')
    expect(received).toEqual(['held', 'after'])
    // The connection still holds its address's place until its socket is gone, through the new listener.
    expect(hs.upgrade(request('7.7.7.7'))).toEqual({ status: 429, message: 'Too many connections from this address' })
    link.close(1001, 'going')
    expect(detached).toEqual([{ code: 1001, reason: 'going' }])
    expect(hs.upgrade(request('7.7.7.7'))).toBe(true)
    expect(hs.sockets).toBe(0)
  })

  it('reports the real close of a socket that went away while onConnection ran', async () => {
    let release!: () => void
    const { open, detached } = setup({ onConnection: () => new Promise<void>((r) => (release = r)) })
    const { listener } = open()
    listener.message(HELLO)
    await tick()
    listener.close(4004, 'heartbeat timeout')
    release()
    await tick()
    expect(detached).toEqual([{ code: 4004, reason: 'heartbeat timeout' }])
  })
})
