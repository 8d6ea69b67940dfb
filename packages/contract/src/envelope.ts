import type { Frame } from './encoder.js'

/**
 * What nodes send each other on the bus: the origin node, a small routing header and an
 * already-encoded client frame. The frame is encoded once by the publishing node and written
 * as-is by every receiving node, so a message to N connections on M nodes is encoded once.
 * Layout: a kind byte (`t` text frame, `b` binary frame), then `origin \n header \n frame`;
 * neither origin nor header contains a newline.
 */
export interface Envelope {
  origin: string
  header: string
  frame: Frame
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const NL = 0x0a

export function encodeEnvelope(origin: string, header: string, frame: Frame): Uint8Array {
  if (typeof frame === 'string') return encoder.encode(`t${origin}\n${header}\n${frame}`)
  const head = encoder.encode(`b${origin}\n${header}\n`)
  const out = new Uint8Array(head.byteLength + frame.byteLength)
  out.set(head)
  out.set(frame, head.byteLength)
  return out
}

export function decodeEnvelope(data: Uint8Array): Envelope | null {
  if (data[0] === 0x74 /* t */) {
    const s = decoder.decode(data)
    const a = s.indexOf('\n')
    const b = a < 0 ? -1 : s.indexOf('\n', a + 1)
    if (b < 0) return null
    return { origin: s.slice(1, a), header: s.slice(a + 1, b), frame: s.slice(b + 1) }
  }
  if (data[0] !== 0x62 /* b */) return null
  const a = data.indexOf(NL)
  const b = a < 0 ? -1 : data.indexOf(NL, a + 1)
  if (b < 0) return null
  return { origin: decoder.decode(data.subarray(1, a)), header: decoder.decode(data.subarray(a + 1, b)), frame: data.slice(b + 1) }
}

// A UTF-16 code unit that is half of no pair: encodeURIComponent throws on it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source)
const escapeWellFormed = (s: string) => encodeURIComponent(s).replace(/[.*~!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * Makes any string safe as one bus subject token (NATS forbids `.`, `*`, `>` and whitespace in
 * tokens). Total and injective: every JS string, lone surrogates included, gets a token of its
 * own and nothing throws. Well-formed strings encode as percent-escaped UTF-8; a lone surrogate
 * becomes `%u` and its code unit in four hex digits (`\ud800` → `%uD800`), which percent-escaped
 * UTF-8 never contains (`u` is not a hex digit).
 */
export function subjectToken(name: string): string {
  if (name !== '' && /^[A-Za-z0-9_-]+$/.test(name)) return name
  if (!HAS_LONE_SURROGATE.test(name)) return `~${escapeWellFormed(name)}`
  let out = '~'
  let from = 0
  for (const m of name.matchAll(LONE_SURROGATE)) {
    out += `${escapeWellFormed(name.slice(from, m.index))}%u${m[0].charCodeAt(0).toString(16).toUpperCase()}`
    from = m.index + 1
  }
  return out + escapeWellFormed(name.slice(from))
}

/**
 * The one place a node drops its own echoes. A bus hands a publish to the publisher's own
 * subscriptions too (see `Bus`), and every cluster message names the node it came from, so a
 * subscriber that wants only its peers' messages wraps its handler in this. Malformed messages
 * (`decode` gives null) are dropped too.
 */
export function fromPeers<M extends { origin: string }>(
  nodeId: string,
  decode: (data: Uint8Array) => M | null,
  handler: (message: M, subject: string) => void,
): (data: Uint8Array, subject: string) => void {
  return (data, subject) => {
    const m = decode(data)
    if (m !== null && m.origin !== nodeId) handler(m, subject)
  }
}
