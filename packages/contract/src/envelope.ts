import type { Frame } from './encoder.js'
import { isTraceCarrier } from './wire.js'

/**
 * What nodes send each other on the bus: the origin node, a small routing header and an
 * already-encoded client frame. The frame is encoded once by the publishing node and written
 * as-is by every receiving node, so a message to N connections on M nodes is encoded once.
 * Layout: a kind byte (`t` text frame, `b` binary frame), then `origin \n header \n frame`;
 * neither origin nor header contains a newline. The origin line may go on with a space and
 * `seq` (base 36), then with a space and `meta` (telemetry: send time, trace context; JSON, so it
 * starts with `{`). Node ids have no space, so a peer that predates either reads the origin
 * all the same, and takes the rest for a meta it cannot parse (costing only its telemetry).
 */
export interface Envelope {
  origin: string
  header: string
  frame: Frame
  /** Telemetry of the sending node (see `EnvelopeMeta`), still encoded; absent when it sent none. */
  meta?: string
  /**
   * The origin's running number for this message (topic publishes carry one): increasing per
   * origin, across restarts too, so a node fed one stream by two subscriptions at once keeps the
   * first copy of each message and drops the second.
   */
  seq?: number
}

/** What `meta` holds once parsed: the send time (ms since epoch) and a trace-context carrier. */
export interface EnvelopeMeta {
  s: number
  c?: Record<string, string>
}

/** The `meta` of an envelope: one line of JSON. */
export const encodeEnvelopeMeta = (meta: EnvelopeMeta): string => JSON.stringify(meta)

/** Parses an envelope's `meta`; undefined when it is not one (a peer's bad meta costs only its telemetry). */
export function decodeEnvelopeMeta(meta: string): EnvelopeMeta | undefined {
  let m: unknown
  try {
    m = JSON.parse(meta)
  } catch {
    return undefined
  }
  if (typeof m !== 'object' || m === null || typeof (m as EnvelopeMeta).s !== 'number') return undefined
  const c = (m as EnvelopeMeta).c
  return c === undefined || isTraceCarrier(c) ? (m as EnvelopeMeta) : { s: (m as EnvelopeMeta).s }
}

// A seq token: base 36, at most 11 digits (every safe integer fits).
const SEQ = /^[0-9a-z]{1,11}$/

// Splits `origin[ seq][ meta]`: meta is JSON, so a token after the origin that is not `{…` is the seq.
function withOrigin(line: string, header: string, frame: Frame): Envelope {
  const sp = line.indexOf(' ')
  if (sp < 0) return { origin: line, header, frame }
  const env: Envelope = { origin: line.slice(0, sp), header, frame }
  let rest = line.slice(sp + 1)
  if (rest.charCodeAt(0) !== 0x7b /* { */) {
    const end = rest.indexOf(' ')
    const token = end < 0 ? rest : rest.slice(0, end)
    const seq = SEQ.test(token) ? parseInt(token, 36) : NaN
    if (Number.isSafeInteger(seq)) env.seq = seq
    rest = end < 0 ? '' : rest.slice(end + 1)
  }
  if (rest !== '') env.meta = rest
  return env
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const NL = 0x0a

/** Encodes an envelope; `seq` and `meta` (one line, from `encodeEnvelopeMeta`) ride after the origin. */
export function encodeEnvelope(origin: string, header: string, frame: Frame, meta?: string, seq?: number): Uint8Array {
  const numbered = seq === undefined ? origin : `${origin} ${seq.toString(36)}`
  const line = meta ? `${numbered} ${meta}` : numbered
  if (typeof frame === 'string') return encoder.encode(`t${line}\n${header}\n${frame}`)
  const head = encoder.encode(`b${line}\n${header}\n`)
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
    return withOrigin(s.slice(1, a), s.slice(a + 1, b), s.slice(b + 1))
  }
  if (data[0] !== 0x62 /* b */) return null
  const a = data.indexOf(NL)
  const b = a < 0 ? -1 : data.indexOf(NL, a + 1)
  if (b < 0) return null
  return withOrigin(decoder.decode(data.subarray(1, a)), decoder.decode(data.subarray(a + 1, b)), data.slice(b + 1))
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
