import type { WireFrame } from './protocol.js'

/** A frame as it crosses the wire: text, or bytes for a binary encoder. */
export type Frame = string | Uint8Array

/**
 * Turns protocol frames into wire frames and back. One interface, so a binary codec can be
 * added without touching the server or client.
 */
export interface Encoder {
  /** Name announced in docs and logs, e.g. `json`. */
  readonly name: string
  /** Whether frames are binary (Uint8Array) rather than text. */
  readonly binary: boolean
  /** Typed over every protocol frame, so a misspelt field in a frame literal does not compile. */
  encode(frame: WireFrame): Frame
  /** Throws on malformed input; the caller answers with a protocol error. */
  decode(data: Frame): unknown
}

const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** The default encoder: JSON text frames. */
export const jsonEncoder: Encoder = {
  name: 'json',
  binary: false,
  encode: (frame) => JSON.stringify(frame),
  decode: (data) => JSON.parse(typeof data === 'string' ? data : textDecoder.decode(data)),
}

/** Subprotocols are `rt.<encoder name>`: what a client offers to ask for its encoder. */
export const SUBPROTOCOL_PREFIX = 'rt.'

/** The WebSocket subprotocol that asks for `encoder`, e.g. `rt.msgpack`. */
export const subprotocolOf = (encoder: Encoder): string => SUBPROTOCOL_PREFIX + encoder.name

/** The subprotocols of a `Sec-WebSocket-Protocol` header, in the client's order of preference. */
export function parseSubprotocols(header: string | undefined): string[] {
  if (!header) return []
  const out: string[] = []
  for (const p of header.split(',')) {
    const v = p.trim()
    if (v !== '') out.push(v)
  }
  return out
}
