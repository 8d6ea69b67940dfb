import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonEncoder } from './encoder.js'
import { ERROR_CODES, RtError } from './errors.js'
import { CloseCode, TERMINAL_CLOSE_CODES, type ClientFrame, type ServerFrame } from './protocol.js'
import { TRACE_CARRIER_LIMITS, closeCodeFor, decodeClientFrame, decodeServerFrame, errorForClose, errorFrame, errorFromFrame, isTraceCarrier } from './wire.js'

const name = fc.string({ minLength: 1, maxLength: 20 })
const id = fc.nat()
const data = fc.option(fc.jsonValue(), { nil: undefined })
const omitUndefined = <T extends object>(o: T): T => JSON.parse(JSON.stringify(o)) as T

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record({ t: fc.constant('hello' as const), v: fc.nat(), role: name, auth: data }),
  fc.record({ t: fc.constant('call' as const), id, p: name, d: data }),
  fc.record({ t: fc.constant('sub' as const), id, n: name, q: data }),
  fc.record({ t: fc.constant('unsub' as const), n: name, k: fc.string() }),
  fc.constant({ t: 'ping' as const }),
  fc.constant({ t: 'pong' as const }),
  fc.record({ t: fc.constant('auth' as const), id, auth: data }),
)

const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({ t: fc.constant('welcome' as const), v: fc.nat(), conn: fc.string(), node: fc.string(), hb: fc.nat(), mf: fc.nat() }),
  fc.record({ t: fc.constant('result' as const), id, d: data }),
  fc.record({ t: fc.constant('error' as const), id, code: fc.constantFrom(...ERROR_CODES), message: fc.string(), data }),
  fc.record({ t: fc.constant('event' as const), n: name, d: fc.jsonValue() }),
  fc.record({ t: fc.constant('pub' as const), n: name, k: fc.string(), d: fc.jsonValue() }),
  fc.record({ t: fc.constant('goaway' as const), reason: fc.string() }),
  fc.constant({ t: 'ping' as const }),
  fc.record({ t: fc.constant('refresh' as const), x: fc.nat() }),
  fc.record({ t: fc.constant('authed' as const), id, x: fc.nat() }, { requiredKeys: ['t', 'id'] }),
)

// The fields each frame type cannot do without, and a value of the wrong shape for each.
const REQUIRED: Record<string, Record<string, unknown[]>> = {
  hello: { v: ['1', null], role: ['', 'x'.repeat(257), 1] },
  call: { id: [-1, 1.5, '1', 2 ** 53], p: ['', 'x'.repeat(257), 1] },
  sub: { id: [-1, 1.5, '1'], n: ['', 'x'.repeat(257), null] },
  unsub: { n: ['', 1], k: [1, null] },
  welcome: { conn: [1, null], node: [1], hb: ['15000', null] },
  result: { id: [-1, 0.5, '1'] },
  error: { code: [1, null], message: [1, null] },
  event: { n: ['', 1] },
  pub: { n: ['', 1] },
  auth: { id: [-1, 0.5, '1', null] },
  refresh: { x: ['1', null, Infinity] },
  authed: { id: [-1, 0.5, '1'] },
}

/** Every way to break a valid frame: a required field removed or of the wrong type, an unknown `t`, not an object. */
function malformed(frame: object): fc.Arbitrary<unknown> {
  const f = frame as Record<string, unknown>
  const fields = REQUIRED[f.t as string] ?? {}
  const broken: fc.Arbitrary<unknown>[] = [
    fc.constantFrom({ ...f, t: 'bogus' }, { ...f, t: undefined }, [f], null, 'x', 1),
  ]
  for (const [field, wrong] of Object.entries(fields)) {
    const { [field]: _, ...without } = f
    broken.push(fc.constant(without), fc.constantFrom(...wrong).map((v) => ({ ...f, [field]: v })))
  }
  return fc.oneof(...broken)
}

describe('the wire module', () => {
  it('round-trips every client and server frame through the encoder (property)', () => {
    fc.assert(fc.property(clientFrame, (f) => {
      expect(decodeClientFrame(jsonEncoder, jsonEncoder.encode(f))).toEqual(omitUndefined(f))
    }))
    fc.assert(fc.property(serverFrame, (f) => {
      expect(decodeServerFrame(jsonEncoder, jsonEncoder.encode(f))).toEqual(omitUndefined(f))
    }))
  })

  it('decodes to null, never throws, on every malformed shape of every frame (property)', () => {
    const json = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v))
    fc.assert(fc.property(clientFrame.chain(malformed), (bad) => {
      expect(decodeClientFrame(jsonEncoder, json(bad))).toBeNull()
    }))
    fc.assert(fc.property(serverFrame.chain(malformed), (bad) => {
      expect(decodeServerFrame(jsonEncoder, json(bad))).toBeNull()
    }))
    // Not even valid text: an encoder that throws is answered null as well.
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(() => decodeClientFrame(jsonEncoder, bytes)).not.toThrow()
        expect(() => decodeServerFrame(jsonEncoder, bytes)).not.toThrow()
      }),
    )
    expect(decodeClientFrame(jsonEncoder, new Uint8Array([0xff, 0xfe]))).toBeNull()
    expect(decodeClientFrame(jsonEncoder, '{"t":"call"')).toBeNull()
    // A server frame is not a client frame, and the other way round.
    expect(decodeClientFrame(jsonEncoder, '{"t":"result","id":1}')).toBeNull()
    expect(decodeServerFrame(jsonEncoder, '{"t":"call","id":1,"p":"x"}')).toBeNull()
  })

  it('puts an error on the wire as docs/protocol.md shows it, and reads it back', () => {
    const err = new RtError('BAD_REQUEST', 'Invalid input', { issues: [] })
    expect(jsonEncoder.encode(errorFrame(7, err))).toBe('{"t":"error","id":7,"code":"BAD_REQUEST","message":"Invalid input","data":{"issues":[]}}')
    expect(jsonEncoder.encode(errorFrame(undefined, new RtError('BAD_REQUEST', 'Malformed frame')))).toBe('{"t":"error","code":"BAD_REQUEST","message":"Malformed frame"}')
    fc.assert(
      fc.property(fc.option(id, { nil: undefined }), fc.constantFrom(...ERROR_CODES), fc.string(), data, (i, code, message, d) => {
        const frame = decodeServerFrame(jsonEncoder, jsonEncoder.encode(errorFrame(i, new RtError(code, message, d))))
        expect(frame?.t).toBe('error')
        const back = errorFromFrame(frame as Extract<ServerFrame, { t: 'error' }>)
        expect([back.code, back.message, back.data]).toEqual([code, message, d === undefined ? undefined : JSON.parse(JSON.stringify(d))])
        expect((frame as { id?: number }).id).toBe(i)
      }),
    )
    // A code from a newer server is not trusted as one of ours.
    expect(errorFromFrame({ t: 'error', code: 'NEW_CODE' as never, message: 'm' }).code).toBe('INTERNAL')
  })

  it('maps authenticate refusals to close codes and terminal close codes back to errors, in pairs', () => {
    const pairs: [unknown, number, string | undefined][] = [
      [new RtError('FORBIDDEN', 'no'), CloseCode.FORBIDDEN, 'FORBIDDEN'],
      [new RtError('UNAUTHORIZED', 'who'), CloseCode.UNAUTHORIZED, 'UNAUTHORIZED'],
      [new RtError('BAD_REQUEST', 'bad'), CloseCode.UNAUTHORIZED, 'UNAUTHORIZED'],
      [new RtError('UNAVAILABLE', 'db'), CloseCode.TRY_AGAIN_LATER, undefined],
      [new RtError('TIMEOUT', 'slow'), CloseCode.TRY_AGAIN_LATER, undefined],
      [new RtError('RATE_LIMITED', 'later'), CloseCode.TRY_AGAIN_LATER, undefined],
      [new Error('crash'), CloseCode.UNAUTHORIZED, 'UNAUTHORIZED'],
      ['thrown string', CloseCode.UNAUTHORIZED, 'UNAUTHORIZED'],
    ]
    for (const [err, code, after] of pairs) {
      expect(closeCodeFor(err)).toBe(code)
      expect(errorForClose(closeCodeFor(err), 'why')?.code).toBe(after)
    }
    for (const code of ERROR_CODES) {
      const close = closeCodeFor(new RtError(code))
      const back = errorForClose(close, 'reason')
      // A refusal either ends the client with its own code, or is worth a retry.
      if (back) expect([code === 'FORBIDDEN' ? 'FORBIDDEN' : 'UNAUTHORIZED', 'reason']).toEqual([back.code, back.message])
      else expect(close).toBe(CloseCode.TRY_AGAIN_LATER)
    }
    expect(errorForClose(CloseCode.NORMAL, '')).toMatchObject({ code: 'CONNECTION_LOST', message: 'Closed by the server' })
    expect(errorForClose(CloseCode.UNSUPPORTED_VERSION, '')).toMatchObject({ code: 'BAD_REQUEST', message: 'Closed with 4007' })
    expect(errorForClose(CloseCode.FORBIDDEN, 'origin not allowed')).toMatchObject({ code: 'FORBIDDEN', message: 'origin not allowed' })
    for (const code of Object.values(CloseCode)) expect(errorForClose(code, '') !== undefined).toBe(TERMINAL_CLOSE_CODES.has(code))
    expect(errorForClose(1006, '')).toBeUndefined()
  })

  it('types encode over the frame unions: a misspelt field does not compile', () => {
    // @ts-expect-error `dd` is not a field of an event frame
    jsonEncoder.encode({ t: 'event', n: 'x', dd: 1 })
    // @ts-expect-error an error frame needs a message
    jsonEncoder.encode({ t: 'error', code: 'INTERNAL' })
    // @ts-expect-error no such frame type
    jsonEncoder.encode({ t: 'evnt', n: 'x', d: 1 })
    expect(jsonEncoder.encode({ t: 'event', n: 'x', d: 1 })).toBe('{"t":"event","n":"x","d":1}')
  })

  it('keeps a call with a bad trace carrier and drops the carrier (property)', () => {
    const good = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'rojo=00f067aa0ba902b7' }
    expect(decodeClientFrame(jsonEncoder, JSON.stringify({ t: 'call', id: 1, p: 'x', tc: good }))).toEqual({ t: 'call', id: 1, p: 'x', tc: good })
    const bad = [null, 'traceparent', [good], { traceparent: 1 }, { 'a b': 'x' }, { x: 'y'.repeat(TRACE_CARRIER_LIMITS.valueLength + 1) }, Object.fromEntries([...Array(9).keys()].map((i) => [`k${i}`, 'v']))]
    for (const tc of bad) expect(decodeClientFrame(jsonEncoder, JSON.stringify({ t: 'call', id: 1, p: 'x', tc }))).toEqual({ t: 'call', id: 1, p: 'x' })
    expect(isTraceCarrier(Object.create({ inherited: 'x' }))).toBe(false)
    fc.assert(
      fc.property(fc.jsonValue(), (tc) => {
        const f = decodeClientFrame(jsonEncoder, JSON.stringify({ t: 'call', id: 1, p: 'x', tc }))
        expect(f).not.toBeNull()
        const kept = (f as { tc?: unknown }).tc
        if (kept !== undefined) expect(isTraceCarrier(kept)).toBe(true)
      }),
    )
  })
})
