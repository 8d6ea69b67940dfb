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
