/**
 * What nodes send each other on the bus: the origin node, a small routing header and an
 * already-encoded client frame. The frame is encoded once by the publishing node and written
 * as-is by every receiving node, so a message to N connections on M nodes is encoded once.
 * Layout (UTF-8): `origin \n header \n frame`; neither origin nor header contains a newline.
 */
export interface Envelope {
  origin: string
  header: string
  frame: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeEnvelope(origin: string, header: string, frame: string): Uint8Array {
  return encoder.encode(`${origin}\n${header}\n${frame}`)
}

export function decodeEnvelope(data: Uint8Array): Envelope | null {
  const s = decoder.decode(data)
  const a = s.indexOf('\n')
  const b = a < 0 ? -1 : s.indexOf('\n', a + 1)
  if (b < 0) return null
  return { origin: s.slice(0, a), header: s.slice(a + 1, b), frame: s.slice(b + 1) }
}

/**
 * Makes any string safe as one bus subject token (NATS forbids `.`, `*`, `>` and whitespace in
 * tokens). Injective, so two names never share a subject.
 */
export function subjectToken(name: string): string {
  if (name !== '' && /^[A-Za-z0-9_-]+$/.test(name)) return name
  return `~${encodeURIComponent(name).replace(/[.*~!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`
}
