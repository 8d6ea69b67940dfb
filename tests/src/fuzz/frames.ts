// fast-check generators over the whole client frame grammar (docs/protocol.md): valid frames of
// every type, the same with wrong types, hostile values and mutations, garbage, invalid UTF-8,
// binary, deep nesting, oversize. Values are generated as JSON *text*: a 20 000-deep object
// would overflow JSON.stringify in the attacker before it reached the server.
import fc from 'fast-check'

/** One WebSocket message: text, binary, or a text frame whose bytes may not be UTF-8. */
export type WireFrame = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array } | { kind: 'textBytes'; data: Uint8Array }

/** Frames above this are over the fuzz server's `maxFrameBytes`. */
export const FUZZ_MAX_FRAME = 64 * 1024

const json = (v: unknown) => JSON.stringify(v)
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
const trickyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 't', 'id', 'then', '')

/** Strings an attacker picks: lone surrogates, prototype names, control characters, long ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.tuple(fc.string({ maxLength: 4 }), loneSurrogate, fc.string({ maxLength: 4 })).map(([a, s, b]) => a + s + b),
  trickyKey,
  fc.constantFrom('\u0000', '.', '*', '>', 'a.b', ' ', '\n', '\ufeff', '\ud83d\ude00', 'r\ud800', '\udfff'),
  fc.nat({ max: 400 }).map((n) => 'n'.repeat(n)),
)

/** JSON text nested `depth` levels (objects or arrays), built without recursion. */
export function deepText(depth: number, kind: 'object' | 'array' | 'mixed', key = 'a'): string {
  let open = ''
  let close = ''
  for (let i = 0; i < depth; i++) {
    const obj = kind === 'object' || (kind === 'mixed' && i % 2 === 0)
    open += obj ? `{${json(key)}:` : '['
    close = (obj ? '}' : ']') + close
  }
  return `${open}1${close}`
}

const deep = fc
  .record({ depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 30_000 })), kind: fc.constantFrom('object', 'array', 'mixed') as fc.Arbitrary<'object' | 'array' | 'mixed'>, key: trickyKey })
  // Objects cost 5 bytes a level more than arrays: keep most deep values under maxFrameBytes.
  .map(({ depth, kind, key }) => deepText(kind === 'array' ? depth : Math.ceil(depth / 4), kind, key))

/** Any JSON value as text, with tricky keys and hostile strings; sometimes deep. */
export const jsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
  { weight: 3, arbitrary: fc.dictionary(fc.oneof(trickyKey, hostileString), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map(json) },
  { weight: 2, arbitrary: hostileString.map(json) },
  { weight: 2, arbitrary: deep },
  { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"text":"x","polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '1e400', '-0', '[]', 'null') },
)

/** Ids: valid, duplicate-prone small ones, and every wrong kind. */
export const idText: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 8 }).map(String) },
  { weight: 2, arbitrary: fc.nat().map(String) },
  { weight: 3, arbitrary: fc.constantFrom('-1', '-0', '0.5', '9007199254740991', '9007199254740992', '1e300', '-1e300', '1e400', '"1"', 'null', 'true', '[1]', '{}') },
)

const procedure = fc.constantFrom('echo', 'json', 'join', 'slow', 'burst', 'reply')
const topic = fc.constantFrom('news', 'ticker', 'feed', 'tick', 'blob')
const nameText = fc.oneof({ weight: 3, arbitrary: procedure.map(json) }, { weight: 3, arbitrary: topic.map(json) }, { weight: 2, arbitrary: hostileString.map(json) }, { weight: 1, arbitrary: fc.constantFrom('1', 'null', '[]', '{}', '""') })

/** Inputs a procedure accepts (most of the time), with hostile values where the schema allows them. */
const goodInput: Record<string, fc.Arbitrary<string>> = {
  echo: fc.record({ text: hostileString, n: fc.option(fc.integer(), { nil: undefined }) }).map(json),
  json: jsonText,
  join: hostileString.map((room) => json({ room })),
  slow: fc.nat({ max: 60 }).map((ms) => json({ ms })),
  burst: fc.record({ count: fc.integer({ min: 1, max: 5 }), size: fc.nat({ max: 200 }) }).map(json),
  reply: fc.record({ to: hostileString, text: hostileString }).map(json),
}
const goodParams: Record<string, fc.Arbitrary<string | undefined>> = {
  news: fc.constantFrom(undefined, 'null', '{}'),
  ticker: fc.oneof(hostileString.map((symbol) => json({ symbol })), jsonText),
  feed: fc.oneof(jsonText, deep, fc.dictionary(hostileString, jsonText.map((t) => ({ t })), { maxKeys: 3 }).map((d) => `{${Object.entries(d).map(([k, v]) => `${json(k)}:${v.t}`).join(',')}}`)),
  tick: fc.constant(undefined),
  blob: fc.constant(undefined),
}

const field = (k: string, v: string | undefined) => (v === undefined ? '' : `,${json(k)}:${v}`)

const call = fc.oneof(
  procedure.chain((p) => fc.tuple(idText, goodInput[p]!).map(([id, d]) => `{"t":"call","id":${id},"p":${json(p)}${field('d', d)}}`)),
  fc.tuple(idText, nameText, fc.option(jsonText, { nil: undefined })).map(([id, p, d]) => `{"t":"call","id":${id},"p":${p}${field('d', d)}}`),
)
const sub = fc.oneof(
  topic.chain((n) => fc.tuple(idText, goodParams[n]!).map(([id, q]) => `{"t":"sub","id":${id},"n":${json(n)}${field('q', q)}}`)),
  fc.tuple(idText, nameText, fc.option(jsonText, { nil: undefined })).map(([id, n, q]) => `{"t":"sub","id":${id},"n":${n}${field('q', q)}}`),
)
const unsub = fc.tuple(fc.oneof(topic.map(json), nameText), fc.oneof(hostileString.map(json), jsonText)).map(([n, k]) => `{"t":"unsub","n":${n},"k":${k}}`)
const helloText = fc
  .record({
    v: fc.oneof({ weight: 5, arbitrary: fc.constant('1') }, { weight: 1, arbitrary: fc.constantFrom('2', '0', '"1"', 'null', '1.5', '-1') }),
    role: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('"user"', '"agent"') }, { weight: 1, arbitrary: nameText }),
    auth: fc.oneof(fc.constant('{"name":"fuzz"}'), fc.constant('{"token":"bad"}'), fc.constant('{"name":"fuzz","delayMs":40}'), fc.constant('{"name":"fuzz","ttlMs":300}'), jsonText),
  })
  .map(({ v, role, auth }) => `{"t":"hello","v":${v},"role":${role},"auth":${auth}}`)
/** Credentials for an open connection (docs/protocol.md, Refreshing credentials): the same user, another, refused, expired, anything. */
const authValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('{"name":"fuzz","ttlMs":60000}', '{"name":"fuzz"}', '{"name":"fuzz","ttlMs":60000,"delayMs":30}') },
  { weight: 1, arbitrary: fc.constantFrom('{"name":"other","ttlMs":60000}', '{"token":"bad"}', '{"name":"fuzz","ttlMs":-5}', '{"name":"fuzz","ttlMs":1e400}') },
  { weight: 2, arbitrary: jsonText },
)
/** An `auth` frame, valid or not: a valid id gets exactly one `authed` or `error`, unless the connection is closed. */
export const authFrameText: fc.Arbitrary<string> = fc.tuple(idText, fc.option(authValue, { nil: undefined })).map(([id, a]) => `{"t":"auth","id":${id}${field('auth', a)}}`)
const control = fc.constantFrom('{"t":"ping"}', '{"t":"pong"}', '{"t":"ping","id":1}', '{"t":"welcome"}', '{"t":"result","id":1}', '{"t":"error","id":1,"code":"INTERNAL","message":"x"}', '{"t":"refresh","x":1}', '{"t":"authed","id":1}')
const wrongShape = fc.oneof(
  jsonText,
  fc.constantFrom('', ' ', '{', '}', '[', 'null', 'true', '0', '"call"', '{"t":null}', '{"t":["call"]}', '{"t":"call"}', '{"t":"CALL","id":1,"p":"echo"}', '{"t":"call","t":"sub","id":1,"n":"news"}', '{"__proto__":{"t":"ping"}}', '{"t":"ping","__proto__":{"t":"call"}}'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
const validText = fc.oneof({ weight: 5, arbitrary: call }, { weight: 3, arbitrary: sub }, { weight: 2, arbitrary: unsub }, { weight: 1, arbitrary: control }, { weight: 1, arbitrary: helloText }, { weight: 1, arbitrary: authFrameText })

/** A valid-looking frame cut, spliced, or with one character changed. */
const mutated = fc.tuple(validText, fc.nat(), fc.constantFrom('cut', 'flip', 'insert', 'dup'), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([t, at, how, s]) => {
  const i = at % (t.length + 1)
  if (how === 'cut') return t.slice(0, i)
  if (how === 'flip') return t.slice(0, i) + s + t.slice(i + 1)
  if (how === 'insert') return t.slice(0, i) + s + t.slice(i)
  return t.slice(0, i) + t + t.slice(i)
})

/** Bytes that are not UTF-8: stray continuation bytes, overlongs, encoded surrogates, truncations. */
const badUtf8 = fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff], [0xfe, 0xff])
const withBadBytes = fc.tuple(validText, badUtf8, fc.nat()).map(([t, bad, at]) => {
  const b = Buffer.from(t)
  const i = at % (b.length + 1)
  return new Uint8Array(Buffer.concat([b.subarray(0, i), Buffer.from(bad), b.subarray(i)]))
})

const oversize = fc.integer({ min: FUZZ_MAX_FRAME + 1, max: FUZZ_MAX_FRAME * 3 }).map((n) => `{"t":"call","id":1,"p":"echo","d":{"text":"${'x'.repeat(n)}"}}`)

const text = (a: fc.Arbitrary<string>) => a.map((data): WireFrame => ({ kind: 'text', data }))

/** Frames a connection survives (answered, or refused with an error frame). */
const surviving = fc.oneof(
  { weight: 10, arbitrary: text(validText) },
  { weight: 3, arbitrary: text(mutated) },
  { weight: 3, arbitrary: text(wrongShape) },
  { weight: 2, arbitrary: validText.map((t): WireFrame => ({ kind: 'binary', data: new Uint8Array(Buffer.from(t)) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((data): WireFrame => ({ kind: 'binary', data })) },
  { weight: 1, arbitrary: withBadBytes.map((data): WireFrame => ({ kind: 'binary', data })) },
)
/** Frames that end the connection at the transport: invalid UTF-8 in a text frame, oversize. */
const ending = fc.oneof(withBadBytes.map((data): WireFrame => ({ kind: 'textBytes', data })), text(oversize))

/** Any one client message; `endingWeight` (of 100) is how often it is one that ends the connection. @default 10 */
export const wireFrameOf = (endingWeight = 10): fc.Arbitrary<WireFrame> =>
  fc.oneof({ weight: 100 - endingWeight, arbitrary: surviving }, { weight: endingWeight, arbitrary: ending })

export const wireFrame = wireFrameOf()

/** One attacking connection: maybe frames before the hello, a hello of some kind, then frames. */
export interface Script {
  before: WireFrame[]
  hello: string | undefined
  /** Send the frames right behind the hello (held during authentication), or after the welcome. */
  pipelined: boolean
  after: WireFrame[]
}

/** Scripts of up to `maxFrames` frames; a longer run wants fewer connection-ending frames (`endingWeight`, of 100). */
export const scriptOf = (maxFrames: number, endingWeight = 10, oddHelloWeight = 3): fc.Arbitrary<Script> =>
  fc.record({
    before: fc.oneof({ weight: 6 * (4 - oddHelloWeight), arbitrary: fc.constant<WireFrame[]>([]) }, { weight: 1, arbitrary: fc.array(wireFrameOf(endingWeight), { minLength: 1, maxLength: 3 }) }),
    hello: fc.oneof({ weight: 8 * (4 - oddHelloWeight), arbitrary: fc.constant('{"t":"hello","v":1,"role":"user","auth":{"name":"fuzz"}}') }, { weight: oddHelloWeight, arbitrary: helloText }, { weight: 1, arbitrary: fc.constant(undefined) }),
    pipelined: fc.boolean(),
    after: fc.array(wireFrameOf(endingWeight), { minLength: 1, maxLength: maxFrames, size: 'max' }),
  })

export const script = scriptOf(25)

/** What the grammar says a frame needs: an answer with this id (`must`), maybe one (`may`), or none. */
export type Need = { id: number; need: 'must' | 'may' } | undefined

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isName = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 256
const fatal = new TextDecoder('utf-8', { fatal: true })
const lossy = new TextDecoder('utf-8')

/** docs/protocol.md: a `call` or `sub` with a valid id and name (an `auth` with a valid id) gets exactly one `result` or `error` (`authed` or `error`) with that id. */
export function needOf(f: WireFrame): Need {
  let text: string
  let need: 'must' | 'may' = 'must'
  if (f.kind === 'text') text = f.data
  else {
    try {
      text = fatal.decode(f.data)
    } catch {
      // A binary frame that is not UTF-8 is malformed; a text one the transport may refuse (1007) or decode lossily.
      if (f.kind === 'binary') return undefined
      text = lossy.decode(f.data)
      need = 'may'
    }
  }
  if (Buffer.byteLength(text) > FUZZ_MAX_FRAME) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const o = v as Record<string, unknown>
  if (o.t === 'call' && isId(o.id) && isName(o.p)) return { id: o.id, need }
  if (o.t === 'sub' && isId(o.id) && isName(o.n)) return { id: o.id, need }
  if (o.t === 'auth' && isId(o.id)) return { id: o.id, need }
  return undefined
}

/** docs/protocol.md: a `hello` has a numeric `v` and a role name; anything else first closes with 4000. */
export function helloOf(f: WireFrame): 'yes' | 'no' | 'maybe' {
  let text: string
  let yes: 'yes' | 'maybe' = 'yes'
  if (f.kind === 'text') text = f.data
  else {
    try {
      text = fatal.decode(f.data)
    } catch {
      if (f.kind === 'binary') return 'no'
      // Refused (1007) or decoded lossily, depending on the transport.
      text = lossy.decode(f.data)
      yes = 'maybe'
    }
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>
    return typeof o === 'object' && o !== null && !Array.isArray(o) && o.t === 'hello' && typeof o.v === 'number' && isName(o.role) ? yes : 'no'
  } catch {
    return 'no'
  }
}

/** Bytes a frame puts on the wire (payload only). */
export const sizeOf = (f: WireFrame) => (f.kind === 'text' ? Buffer.byteLength(f.data) : f.data.byteLength)
