import { CloseCode, RtError, defineContract, jsonEncoder, type Encoder, type Frame } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Connection, type NodeCore } from './connection.js'
import { Codecs } from './codecs.js'
import { createFrameTable, type FrameTopics } from './dispatch.js'
import { resolveLimits, type Limits } from './limits.js'
import { resolveRoles } from './roles.js'
import { Telemetry } from './telemetry/telemetry.js'
import type { TransportSocket } from './transport.js'
import type { DisconnectReason, ErrorContext } from './types.js'

const contract = defineContract({
  roles: {
    user: {
      clientToServer: {
        echo: { input: z.object({ text: z.string() }), output: z.object({ text: z.string() }) },
        later: { input: z.object({ n: z.number() }), output: z.number() },
        boom: { input: z.object({}), output: z.object({}) },
        refuse: { input: z.object({}), output: z.object({}) },
        lie: { input: z.object({}), output: z.object({ ok: z.boolean() }) },
        nothing: { input: z.object({}), output: z.undefined() },
      },
      serverToClient: { note: { payload: z.string() } },
    },
  },
})

/** A TransportSocket that keeps what it is given. */
class FakeSocket implements TransportSocket {
  readonly sent: Frame[] = []
  closedWith: [number, string | undefined] | undefined
  bufferedAmount = 0
  send(frame: Frame): void {
    this.sent.push(frame)
  }
  close(code: number, reason?: string): void {
    this.closedWith ??= [code, reason]
  }
  /** Every frame sent so far, decoded; the list is emptied. */
  take(): Record<string, unknown>[] {
    return this.sent.splice(0).map((f) => jsonEncoder.decode(f) as Record<string, unknown>)
  }
}

function setup(options: { limits?: Partial<Limits>; encoder?: Encoder; topics?: Partial<FrameTopics> } = {}) {
  const pending = new Map<number, { resolve: (v: number) => void; reject: (e: unknown) => void }>()
  const { entries } = resolveRoles(contract, {
    user: {
      echo: (input: { text: string }) => ({ text: input.text }),
      later: (input: { n: number }) => new Promise<number>((resolve, reject) => pending.set(input.n, { resolve, reject })),
      boom: () => {
        throw new Error('handler bug')
      },
      refuse: () => {
        throw new RtError('FORBIDDEN', 'not yours', { why: 1 })
      },
      lie: () => ({ ok: 'yes' }),
      nothing: () => undefined,
    },
  })
  const encoder = options.encoder ?? jsonEncoder
  const reports: [unknown, ErrorContext][] = []
  const detached: DisconnectReason[] = []
  const topics: FrameTopics = {
    subscribeConn: async (conn, f) => conn.send(encoder.encode({ t: 'result', id: f.id, d: { k: '' } })),
    unsubscribeConn: () => {},
    ...options.topics,
  }
  const core: NodeCore & { draining: boolean } = {
    nodeId: 'n1',
    encoder,
    limits: resolveLimits(options.limits),
    validateOutput: true,
    draining: false,
    frames: createFrameTable(new Codecs([encoder]), topics),
    telemetry: new Telemetry(),
    report: (e, c) => void reports.push([e, c]),
    detach: (_conn, reason) => void detached.push(reason),
  }
  const socket = new FakeSocket()
  const conn = new Connection('n1.c1', entries.get('user')!, { user: { id: 'u1' } }, socket, core)
  const send = (frame: unknown) => conn.receive(typeof frame === 'string' ? frame : JSON.stringify(frame))
  return { conn, socket, core, send, pending, reports, detached }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('Connection', () => {
  it('answers a sync call within receive(): no await, and it never counts as in flight', async () => {
    const { socket, send, conn } = setup({ limits: { maxInFlightCalls: 1 } })
    for (let id = 1; id <= 50; id++) {
      send({ t: 'call', id, p: 'echo', d: { text: `t${id}` } })
      expect(socket.take()).toEqual([{ t: 'result', id, d: { text: `t${id}` } }])
    }
    send({ t: 'call', id: 51, p: 'nothing', d: {} })
    expect(socket.take()).toEqual([{ t: 'result', id: 51 }])
    // Nothing is in flight: settledCalls resolves at once, and the single in-flight slot is free.
    await conn.settledCalls()
    send({ t: 'call', id: 52, p: 'later', d: { n: 1 } })
    expect(socket.take()).toEqual([])
  })

  it('accounts for async calls: in flight until answered, limited, no duplicate id, settled once done', async () => {
    const { socket, send, conn, pending } = setup({ limits: { maxInFlightCalls: 2 } })
    send({ t: 'call', id: 1, p: 'later', d: { n: 1 } })
    send({ t: 'call', id: 2, p: 'later', d: { n: 2 } })
    send({ t: 'call', id: 1, p: 'later', d: { n: 3 } })
    send({ t: 'call', id: 3, p: 'later', d: { n: 4 } })
    await flush()
    expect(socket.take()).toEqual([
      { t: 'error', id: 1, code: 'CONFLICT', message: 'Call id 1 is already in flight' },
      { t: 'error', id: 3, code: 'RATE_LIMITED', message: 'Too many calls in flight' },
    ])
    // With every slot taken even a call that would answer synchronously is refused: that is known only once it ran.
    send({ t: 'call', id: 9, p: 'echo', d: { text: 'x' } })
    expect(socket.take()).toEqual([{ t: 'error', id: 9, code: 'RATE_LIMITED', message: 'Too many calls in flight' }])
    let settled = false
    void conn.settledCalls().then(() => (settled = true))
    pending.get(2)!.resolve(20)
    await flush()
    expect([socket.take(), settled]).toEqual([[{ t: 'result', id: 2, d: 20 }], false])
    pending.get(1)!.reject(new RtError('TIMEOUT', 'too slow'))
    await flush()
    expect([socket.take(), settled]).toEqual([[{ t: 'error', id: 1, code: 'TIMEOUT', message: 'too slow' }], true])
    // Freed slots take new calls.
    send({ t: 'call', id: 1, p: 'later', d: { n: 5 } })
    await flush()
    expect(socket.take()).toEqual([])
  })

  it('fails calls in flight at shutdown once, and drops their late answers', async () => {
    const { socket, send, conn, pending, core } = setup()
    send({ t: 'call', id: 1, p: 'later', d: { n: 1 } })
    await flush()
    conn.failInFlight(new RtError('UNAVAILABLE', 'Server shut down before the call finished'))
    expect(socket.take()).toEqual([{ t: 'error', id: 1, code: 'UNAVAILABLE', message: 'Server shut down before the call finished' }])
    pending.get(1)!.resolve(1)
    await flush()
    expect(socket.take()).toEqual([])
    core.draining = true
    send({ t: 'call', id: 2, p: 'echo', d: { text: 'x' } })
    expect(socket.take()).toEqual([{ t: 'error', id: 2, code: 'UNAVAILABLE', message: 'Server is shutting down' }])
  })

  it('refuses what the contract does not allow: unknown procedure, bad input, too deep, bad output', () => {
    const { socket, send, reports } = setup({ limits: { maxInputDepth: 3 } })
    send({ t: 'call', id: 1, p: 'nope', d: {} })
    send({ t: 'call', id: 2, p: 'echo', d: { text: 1 } })
    send({ t: 'call', id: 3, p: 'echo', d: { text: [[['x']]] } })
    send({ t: 'call', id: 4, p: 'lie', d: {} })
    const [notFound, invalid, deep, lie] = socket.take()
    expect(notFound).toEqual({ t: 'error', id: 1, code: 'NOT_FOUND', message: 'Unknown procedure "nope"' })
    expect(invalid).toMatchObject({ t: 'error', id: 2, code: 'BAD_REQUEST', message: 'Invalid input', data: { issues: [{ path: ['text'] }] } })
    expect(deep).toEqual({ t: 'error', id: 3, code: 'BAD_REQUEST', message: 'Input nested deeper than 3 levels' })
    expect(lie).toEqual({ t: 'error', id: 4, code: 'INTERNAL', message: 'Internal server error' })
    expect(reports.map(([, c]) => c)).toEqual([{ where: 'output', connId: 'n1.c1', procedure: 'lie' }])
  })

  it('dispatches every frame type through the table: ping, pong, sub, unsub, a second hello', async () => {
    const unsubs: unknown[] = []
    const { socket, send } = setup({ topics: { unsubscribeConn: (_c, f) => void unsubs.push(f) } })
    send({ t: 'ping' })
    send({ t: 'pong' })
    send({ t: 'hello', v: 1, role: 'user' })
    send({ t: 'unsub', n: 'news', k: '' })
    send({ t: 'sub', id: 5, n: 'news' })
    await flush()
    expect(socket.take()).toEqual([
      { t: 'pong' },
      { t: 'error', code: 'BAD_REQUEST', message: 'Already authenticated' },
      { t: 'result', id: 5, d: { k: '' } },
    ])
    expect(unsubs).toEqual([{ t: 'unsub', n: 'news', k: '' }])
  })

  it('rate-limits frames: over the burst gets RATE_LIMITED, rateStrikes in a row close with 4006', () => {
    const { socket, send, conn, detached } = setup({ limits: { rateBurst: 3, ratePerSecond: 0.001, rateStrikes: 2 } })
    for (let id = 1; id <= 3; id++) send({ t: 'call', id, p: 'echo', d: { text: '' } })
    expect(socket.take().map((f) => f.t)).toEqual(['result', 'result', 'result'])
    send({ t: 'call', id: 4, p: 'echo', d: { text: '' } })
    expect(socket.take()).toEqual([{ t: 'error', id: 4, code: 'RATE_LIMITED', message: 'Too many messages' }])
    expect(conn.closed).toBe(false)
    send({ t: 'ping' })
    expect(socket.take()).toEqual([])
    expect([conn.closed, socket.closedWith, detached]).toEqual([true, [CloseCode.RATE_LIMITED, 'too many bad or rate-limited frames'], [{ code: 4006, reason: 'too many bad or rate-limited frames' }]])
    // Frames after the close cost nothing and get nothing.
    send({ t: 'ping' })
    expect(socket.take()).toEqual([])
  })

  it('meters inbound bytes before parsing, malformed frames included: over the byte burst closes with 4006', () => {
    const { socket, send, conn } = setup({ limits: { byteBurst: 100, byteRatePerSecond: 0.001 } })
    send('x'.repeat(60))
    expect(socket.take()).toEqual([{ t: 'error', code: 'BAD_REQUEST', message: 'Malformed frame' }])
    expect(conn.closed).toBe(false)
    send('y'.repeat(41))
    expect([socket.take(), socket.closedWith]).toEqual([[], [CloseCode.RATE_LIMITED, 'inbound byte rate exceeded']])
  })

  it('answers malformed frames without an id and closes after rateStrikes of them in a row; a good frame resets the count', () => {
    const { socket, send, conn } = setup({ limits: { rateStrikes: 3 } })
    for (const bad of ['{not json', '[]', '{"t":"call"}', '{"t":"bogus"}', 'null', '{"t":"call","id":-1,"p":"echo"}']) {
      send(bad)
      if (bad === '[]' || bad === '{"t":"bogus"}') send({ t: 'ping' })
    }
    expect(conn.closed).toBe(false)
    send('{"t":"sub","id":1}')
    expect(conn.closed).toBe(true)
    expect(socket.closedWith).toEqual([CloseCode.RATE_LIMITED, 'too many bad or rate-limited frames'])
    expect(socket.take().filter((f) => f.t === 'error')).toEqual(Array(7).fill({ t: 'error', code: 'BAD_REQUEST', message: 'Malformed frame' }))
  })

  it('guards every frame: a handler throw is INTERNAL (reported), an RtError keeps its code, a failing encoder closes with 4000', async () => {
    const { socket, send, reports } = setup({ topics: { subscribeConn: () => Promise.reject(new RtError('FORBIDDEN', 'no')) } })
    send({ t: 'call', id: 1, p: 'boom', d: {} })
    send({ t: 'call', id: 2, p: 'refuse', d: {} })
    send({ t: 'sub', id: 3, n: 'news' })
    await flush()
    expect(socket.take()).toEqual([
      { t: 'error', id: 1, code: 'INTERNAL', message: 'Internal server error' },
      { t: 'error', id: 2, code: 'FORBIDDEN', message: 'not yours', data: { why: 1 } },
      { t: 'error', id: 3, code: 'FORBIDDEN', message: 'no' },
    ])
    expect(reports).toEqual([[new Error('handler bug'), { where: 'handler', connId: 'n1.c1', procedure: 'boom' }]])

    // An encoder that fails on one answer: the fault guard answers INTERNAL instead.
    const picky: Encoder = { ...jsonEncoder, encode: (f) => ('id' in f && f.id === 7 && f.t === 'result' ? thrower() : jsonEncoder.encode(f)) }
    const thrower = (): never => {
      throw new Error('encoder bug')
    }
    const a = setup({ encoder: picky })
    a.send({ t: 'call', id: 7, p: 'echo', d: { text: 'x' } })
    expect(a.socket.take()).toEqual([{ t: 'error', id: 7, code: 'INTERNAL', message: 'Internal server error' }])
    expect(a.reports.map(([e]) => (e as Error).message)).toEqual(['encoder bug'])

    // One that cannot even encode the error: the connection is closed, nothing escapes.
    const broken: Encoder = { ...jsonEncoder, encode: (f) => (f.t === 'error' || f.t === 'result' ? thrower() : jsonEncoder.encode(f)) }
    const b = setup({ encoder: broken })
    expect(() => b.send({ t: 'call', id: 1, p: 'echo', d: { text: 'x' } })).not.toThrow()
    expect([b.conn.closed, b.socket.closedWith]).toEqual([true, [CloseCode.PROTOCOL_ERROR, 'internal error']])
  })

  it('checks emitted events against the vocabulary and closes a slow consumer', () => {
    const { socket, conn } = setup({ limits: { maxBufferedBytes: 10 } })
    conn.emit('note', 'hi')
    expect(socket.take()).toEqual([{ t: 'event', n: 'note', d: 'hi' }])
    expect(() => conn.emit('nope', 1)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
    expect(() => conn.emit('note', 1)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    socket.bufferedAmount = 11
    // The buffer is checked every 16th frame (or on a large one).
    for (let i = 0; i < 16 && !conn.closed; i++) conn.emit('note', 'x')
    expect(socket.closedWith).toEqual([CloseCode.SLOW_CONSUMER, 'slow consumer'])
  })
})
