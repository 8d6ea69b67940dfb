import { jsonEncoder, type Encoder, type Frame, type ServerFrame } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import { Codecs, Encodings } from './codecs.js'
import type { Connection } from './connection.js'
import { nativeFanout } from './native-fanout.js'
import type { TransportRequest } from './transport.js'

/** A stand-in binary codec (JSON text as bytes), counting its encodes and decodes. */
function fakeBinary(name = 'bin') {
  const counts = { encode: 0, decode: 0 }
  const enc: Encoder = {
    name,
    binary: true,
    encode: (f) => (counts.encode++, new TextEncoder().encode(JSON.stringify(f))),
    decode: (d) => (counts.decode++, JSON.parse(new TextDecoder().decode(d as Uint8Array))),
  }
  return { enc, counts }
}

const req = (protocols?: string[], header?: string): TransportRequest => ({
  url: '/',
  headers: header === undefined ? {} : { 'sec-websocket-protocol': header },
  remoteAddress: '127.0.0.1',
  ...(protocols && { protocols }),
})

describe('Codecs', () => {
  it('puts JSON first wherever it is listed, and selects by the first served rt.* subprotocol', () => {
    const bin = fakeBinary().enc
    const c = new Codecs([bin, jsonEncoder])
    expect(c.list.map((e) => e.name)).toEqual(['json', 'bin'])
    expect(c.select(req())).toEqual({ codec: 0, protocol: undefined })
    expect(c.select(req(['app', 'rt.nope', 'rt.bin', 'rt.json']))).toEqual({ codec: 1, protocol: 'rt.bin' })
    expect(c.select(req(['rt.json']))).toEqual({ codec: 0, protocol: 'rt.json' })
    expect(c.select(req(['app']))).toEqual({ codec: 0, protocol: undefined })
    expect(c.select(req(['rt.nope', 'rt.other']))).toEqual({ codec: -1, protocol: 'rt.nope' })
    // Without `protocols`, read from the header.
    expect(c.select(req(undefined, 'x, rt.bin'))).toEqual({ codec: 1, protocol: 'rt.bin' })
  })

  it('writes the canonical frame to every recipient while none uses another codec, and encodes another once for all that do', () => {
    const { enc, counts } = fakeBinary()
    const c = new Codecs([jsonEncoder, enc])
    const got: [number, Frame][] = []
    const member = (codec: number) => ({ codec, send: (f: Frame) => void got.push([codec, f]) })
    const source: ServerFrame = { t: 'event', n: 'x', d: { a: 1 } }
    const frame = jsonEncoder.encode(source)
    c.deliver([member(0), member(0)], frame, source)
    expect(counts.encode).toBe(0)
    c.count(1, 1)
    c.count(1, 1)
    expect([c.others, c.inUse(1)]).toEqual([2, true])
    got.length = 0
    c.deliver([member(0), member(1), member(1), member(0)], frame, source)
    expect(counts).toEqual({ encode: 1, decode: 0 })
    expect(got.filter(([k]) => k === 0).every(([, f]) => f === frame)).toBe(true)
    const bins = got.filter(([k]) => k === 1).map(([, f]) => f)
    expect(bins[0]).toBe(bins[1])
    // A frame from the bus (no source): decoded once from the canonical one, then encoded once.
    const fromBus = new Encodings(c, frame, undefined)
    expect(fromBus.get(1)).toBe(fromBus.get(1))
    expect(fromBus.get(0)).toBe(frame)
    expect(counts).toEqual({ encode: 2, decode: 0 })
    c.count(1, -1)
    c.count(1, -1)
    expect([c.others, c.inUse(1)]).toEqual([0, false])
  })

  it('builds a constant frame in another codec on first use only', () => {
    const { enc, counts } = fakeBinary()
    const ping = new Codecs([jsonEncoder, enc]).constant({ t: 'ping' })
    expect(ping.get(0)).toBe('{"t":"ping"}')
    expect(counts.encode).toBe(0)
    expect(ping.get(1)).toBe(ping.get(1))
    expect(counts.encode).toBe(1)
  })

  it('refuses an empty list and two encoders of one name', () => {
    expect(() => new Codecs([])).toThrow(TypeError)
    expect(() => new Codecs([jsonEncoder, fakeBinary('json').enc])).toThrow(/two encoders/)
  })
})

describe('nativeFanout', () => {
  function socketOf(log: string[], codec: number) {
    return { codec, socket: { subscribe: (ch: string) => void log.push(`+${codec} ${ch}`), unsubscribe: (ch: string) => void log.push(`-${codec} ${ch}`) } } as unknown as Connection
  }

  it('keeps channel names and the transport publish itself on a single-codec node', () => {
    const published: string[] = []
    const publish = (ch: string) => void published.push(ch)
    const log: string[] = []
    const n = nativeFanout(new Codecs([jsonEncoder]), publish)
    expect(n.publish).toBe(publish)
    n.subscribe(socketOf(log, 0), 'room.a')
    expect(log).toEqual(['+0 room.a'])
  })

  it('subscribes another codec to <channel>#<name> and publishes there once, only while it has subscribers here', () => {
    const { enc, counts } = fakeBinary()
    const codecs = new Codecs([jsonEncoder, enc])
    const published: [string, Frame][] = []
    const log: string[] = []
    const n = nativeFanout(codecs, (ch, f) => void published.push([ch, f]))
    const source: ServerFrame = { t: 'event', n: 'x', d: 1 }
    const frame = jsonEncoder.encode(source)
    const bin = socketOf(log, 1)
    codecs.count(1, 1)
    n.subscribe(socketOf(log, 0), 'room.a')
    n.subscribe(bin, 'room.a')
    expect(log).toEqual(['+0 room.a', '+1 room.a#bin'])
    n.publish('room.a', frame, source)
    n.publish('room.b', frame, source) // no subscriber of room.b#bin here: not encoded
    expect(published.map(([ch]) => ch)).toEqual(['room.a', 'room.a#bin', 'room.b'])
    expect(counts.encode).toBe(1)
    n.unsubscribe(bin, 'room.a')
    n.publish('room.a', frame, source)
    expect(published.map(([ch]) => ch).slice(3)).toEqual(['room.a'])
    expect(log.at(-1)).toBe('-1 room.a#bin')
  })
})
