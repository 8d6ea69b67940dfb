import { checkMessagePack, msgpackEncoder } from '@rt/codec-msgpack'
import { decodeClientFrame, jsonEncoder, subprotocolOf } from '@rt/contract'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codecSocket, msgpackr } from './codecs/raw-codec-socket.js'
import { DOCUMENTED_CLOSES } from './fuzz/session.js'
import { connect, sleep, startServer, until, wsTransport, type TransportFactory } from './harness.js'
import { uwsTransport } from './uws-transport.js'

const seed = Number(process.env.RT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const KNOWN = msgpackEncoder.encode({ t: 'event', n: 'known', d: { a: [1, 'two', null, true], b: { c: 1.5 } } }) as Uint8Array
const knownValue = { t: 'event', n: 'known', d: { a: [1, 'two', null, true], b: { c: 1.5 } } }

/** Only what JSON could give, plus bytes: no Date, Set, Map, RegExp, Error or class instance. */
function plain(v: unknown, depth = 0): boolean {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true
  if (v instanceof Uint8Array) return true
  if (Array.isArray(v)) return v.every((x) => plain(x, depth + 1))
  if (typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype && Object.values(v as object).every((x) => plain(x, depth + 1))
}

/** MessagePack-ish bytes: valid frames, then cut, spliced and with random bytes flipped or inserted. */
const mutated = fc
  .tuple(
    fc.oneof(fc.jsonValue(), fc.record({ t: fc.constantFrom('call', 'sub', 'hello', 'ping'), id: fc.nat(), p: fc.string(), d: fc.jsonValue() })),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')), { maxLength: 4 }),
  )
  .map(([value, edits]) => {
    let b = Array.from(msgpackr.pack(value))
    for (const [at, byte, op] of edits) {
      const i = b.length === 0 ? 0 : at % b.length
      if (op === 'set') b[i] = byte
      else if (op === 'insert') b.splice(i, 0, byte)
      else b = b.slice(0, i)
    }
    return new Uint8Array(b)
  })

// Headers that declare far more than follows: arrays, maps, strings, bins and exts of 2^32-1.
const LIES = [
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xdf, 0xff, 0xff, 0xff, 0xff],
  [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61],
  [0xc6, 0xff, 0xff, 0xff, 0xff],
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0xdc, 0xff, 0xff, 0x90],
  // msgpackr's own extensions: a record definition, a string bundle, a structured-clone pointer, an Error, a Set.
  [0xd4, 0x72, 0x40],
  [0xd6, 0x62, 0, 0, 0, 9],
  [0xd6, 0x70, 0, 0, 0, 1],
  [0xd4, 0x65, 0x00],
  [0xd4, 0x73, 0x00],
  [0xd4, 0x00, 0x00],
]

describe('the MessagePack decoder on untrusted bytes', () => {
  it('throws only ordinary Errors, returns only JSON-like values, and keeps decoding right after (arbitrary and mutated bytes)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), mutated), (bytes) => {
        let v: unknown
        try {
          v = msgpackEncoder.decode(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(Error)
          return
        }
        expect(plain(v)).toBe(true)
        // The protocol's decoder never throws on it.
        expect(() => decodeClientFrame(msgpackEncoder, bytes)).not.toThrow()
        expect(msgpackEncoder.decode(KNOWN)).toEqual(knownValue)
      }),
      { seed, numRuns: 3_000 },
    )
  })

  it('refuses declared lengths beyond the bytes, nesting beyond 512 and every extension but the timestamp, at once', () => {
    for (const lie of LIES) expect(() => msgpackEncoder.decode(new Uint8Array(lie))).toThrow(Error)
    expect(() => msgpackEncoder.decode(new Uint8Array(100_000).fill(0x91))).toThrow(/nested deeper/)
    // 1 MB of a 2^32-1 element array's elements cut short: refused without allocating for the count.
    const big = new Uint8Array(1 << 20)
    big.set([0xdd, 0xff, 0xff, 0xff, 0xff])
    expect(() => checkMessagePack(big)).toThrow(/truncated/)
    expect(msgpackEncoder.decode(KNOWN)).toEqual(knownValue)
  })

  it('gives what JSON gives for any JSON value (but a `__proto__` key, which msgpackr renames `__proto_`)', () => {
    expect(msgpackEncoder.decode(msgpackr.pack(JSON.parse('{"__proto__":{"x":1}}')))).toEqual({ __proto_: { x: 1 } })
    fc.assert(
      fc.property(fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')), (v) => {
        const viaMsgpack = msgpackEncoder.decode(msgpackEncoder.encode({ t: 'event', n: 'x', d: v }))
        const viaJson = jsonEncoder.decode(jsonEncoder.encode({ t: 'event', n: 'x', d: v }))
        expect(JSON.stringify(viaMsgpack)).toBe(JSON.stringify(viaJson))
      }),
      { seed, numRuns: 1_000 },
    )
  })
})

const transports: [string, TransportFactory][] = [
  ['ws', wsTransport],
  ['uWebSockets.js', uwsTransport],
]

for (const [name, transport] of transports) {
  it(`a live server over ${name} takes arbitrary binary frames from MessagePack clients: no crash, others unharmed`, async () => {
    await using s = await startServer(transport, {
      encoders: [jsonEncoder, msgpackEncoder],
      limits: { ratePerSecond: 1e6, rateBurst: 1e6, maxFrameBytes: 16 * 1024 },
      onConnection: (conn) => s.srv.room('all').add(conn),
    })
    await using j = connect(s.url, 'user', { auth: { name: 'good-json' }, reconnect: false })
    await using m = connect(s.url, 'user', { auth: { name: 'good-mp' }, encoder: msgpackEncoder, reconnect: false })
    const seen = { j: 0, m: 0 }
    j.on('message', () => void seen.j++)
    m.on('message', () => void seen.m++)
    await Promise.all([j.ready(), m.ready()])
    const drops: string[] = []
    for (const c of [j, m]) c.onStateChange((e) => void drops.push(`${e.state} ${e.code ?? ''}`))
    let broadcasts = 0
    const ticker = setInterval(() => {
      broadcasts++
      s.srv.room('all').broadcast('message', { room: 'all', text: `tick ${broadcasts}`, from: 'srv' })
    }, 10)
    const closes: number[] = []
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.array(fc.oneof(fc.uint8Array({ maxLength: 2_048 }), mutated, fc.string({ maxLength: 64 })), { minLength: 1, maxLength: 8 }),
          async (helloFirst, frames) => {
            await using sock = await codecSocket(s.url, msgpackEncoder, [subprotocolOf(msgpackEncoder)])
            if (helloFirst) await sock.hello({ name: 'attacker' })
            for (const f of frames) sock.send(f)
            // A call after them: answered, unless the server closed the socket with a documented code.
            sock.send({ t: 'call', id: 1e6, p: 'echo', d: { text: 'after' } })
            const answer = await sock.next((f) => f.id === 1e6, 3_000).catch(() => undefined)
            if (!answer) {
              const closed = await Promise.race([sock.closed(), sleep(3_000).then(() => undefined)])
              expect(closed, 'neither answered nor closed').toBeDefined()
              closes.push(closed!.code)
              expect(DOCUMENTED_CLOSES.has(closed!.code)).toBe(true)
            } else {
              expect(answer.binary).toBe(true)
              expect(['result', 'error']).toContain(answer.frame.t)
              if (answer.frame.t === 'error') expect(answer.frame.code).not.toBe('INTERNAL')
            }
            for (const r of sock.got) if (r.frame.t === 'error') expect(r.frame.code).not.toBe('INTERNAL')
          },
        ),
        { seed, numRuns: 150 },
      )
      // The well-behaved clients: still open, calls answered, every broadcast received.
      expect(drops).toEqual([])
      expect((await j.call.echo({ text: 'still here' })).text).toBe('still here')
      expect((await m.call.echo({ text: 'still here' })).text).toBe('still here')
    } finally {
      clearInterval(ticker)
    }
    await until(() => seen.j === broadcasts && seen.m === broadcasts, 5_000, 'every broadcast')
    expect(broadcasts).toBeGreaterThan(0)
    // No server error for client input: only client-caused reports (none expected here).
    expect(s.errors).toEqual([])
  }, 120_000)
}
