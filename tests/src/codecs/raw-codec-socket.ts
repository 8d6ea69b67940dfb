import { createRequire } from 'node:module'
import WebSocket from 'ws'
import type { Encoder, Frame } from '@rt/contract'
import { inbox } from '../raw.js'

// msgpackr itself (the codec package's copy), to read frames independently of @rt's decoder.
const require = createRequire(import.meta.resolve('@rt/codec-msgpack/package.json'))
export const msgpackr = require('msgpackr') as { unpack(b: Uint8Array): unknown; pack(v: unknown): Uint8Array }

/** A wire frame as received, and the kind of WebSocket message it came in. */
export interface Received {
  frame: any
  binary: boolean
  bytes: Uint8Array
}

/**
 * A bare WebSocket on one codec: `protocols` offered at the upgrade (none: JSON), frames
 * encoded and decoded with `encoder`, each kept with the raw bytes it arrived as.
 */
export async function codecSocket(url: string, encoder: Encoder, protocols: string[] = []) {
  const ws = new WebSocket(url, protocols)
  const box = inbox<Received>(
    ws,
    (d, binary) => {
      const bytes = new Uint8Array(d)
      let frame: unknown
      try {
        frame = encoder.decode(binary ? bytes : d.toString())
      } catch {
        frame = { t: '(undecodable)' }
      }
      return { frame, binary, bytes }
    },
    (r, pred) => pred(r.frame),
  )
  await box.opened
  const sock = {
    ws,
    got: box.items,
    send: (f: object | Frame) => ws.send(typeof f === 'string' || f instanceof Uint8Array ? f : encoder.encode(f as never)),
    closed: box.closed,
    /** Waits for the first frame matching `pred` and takes it. */
    next: box.next,
    async hello(auth: unknown = { name: 'raw' }) {
      sock.send({ t: 'hello', v: 1, role: 'user', auth })
      return sock.next((f) => f.t === 'welcome')
    },
    [Symbol.asyncDispose]: () => box[Symbol.asyncDispose](),
  }
  return sock
}

/** An encoder that counts its encodes and decodes, under the same name. */
export function counting(encoder: Encoder) {
  const counts = { encode: 0, decode: 0 }
  const counted: Encoder = {
    name: encoder.name,
    binary: encoder.binary,
    encode: (f) => (counts.encode++, encoder.encode(f)),
    decode: (d) => (counts.decode++, encoder.decode(d)),
  }
  return { encoder: counted, counts }
}
