import { RtError, stableKey, validate, type TopicDef, type ValidationResult } from '@rt/contract'
import { depthWithin } from '../depth.js'

/** Longest stream key: it becomes part of a bus subject, kept well under NATS's control-line limit. */
export const MAX_KEY = 1024

/** A stream of a topic: its params as the schema outputs them, and their canonical key. */
export interface StreamKey {
  params: unknown
  key: string
}

const NO_PARAMS: StreamKey = { params: undefined, key: '' }

function keyOf(r: ValidationResult<unknown>): StreamKey {
  if (!r.ok) throw new RtError('BAD_REQUEST', 'Invalid params', { issues: r.issues })
  const key = stableKey(r.value) // throws BAD_REQUEST past MAX_KEY_DEPTH
  if (key.length > MAX_KEY) throw new RtError('BAD_REQUEST', `Params too large (over ${MAX_KEY} characters as JSON)`)
  return { params: r.value, key }
}

// The value made the schema throw: refused, with the throw kept as `cause` (the schema may have a bug).
const threw = (e: unknown) => new RtError('BAD_REQUEST', 'Invalid params', undefined, { cause: e })

/**
 * Names the stream that `raw` params select, for every caller (client `sub`, `publish`,
 * server listeners): answers synchronously for a synchronous schema, with a promise for an
 * asynchronous one. Throws (or rejects with) BAD_REQUEST for params the topic refuses: params on
 * a topic without, nesting past `maxDepth` (checked before the schema runs) or `MAX_KEY_DEPTH`,
 * a schema failure (or throw, as `cause`), or a key over `MAX_KEY` characters.
 */
export function streamKey(def: TopicDef, raw: unknown, maxDepth = Infinity): StreamKey | Promise<StreamKey> {
  if (!def.params) {
    if (raw !== undefined && raw !== null) throw new RtError('BAD_REQUEST', 'This topic takes no params')
    return NO_PARAMS
  }
  if (maxDepth < Infinity && !depthWithin(raw, maxDepth)) throw new RtError('BAD_REQUEST', `Params nested deeper than ${maxDepth} levels`)
  let r: ReturnType<typeof validate<unknown>>
  try {
    r = validate(def.params, raw)
  } catch (e) {
    throw threw(e)
  }
  return r instanceof Promise ? r.then(keyOf, (e: unknown) => Promise.reject(threw(e))) : keyOf(r)
}

/**
 * `streamKey` for the server's own calls (`publish`, `subscribe`), which answer synchronously:
 * an asynchronous params schema is refused as INTERNAL. Errors are worded `<what>: <reason>`.
 */
export function streamKeySync(def: TopicDef, raw: unknown, what: string, Err: typeof RtError = RtError): StreamKey {
  let k: StreamKey | Promise<StreamKey>
  try {
    k = streamKey(def, raw)
  } catch (e) {
    const err = e as RtError
    throw new Err(err.code, `${what}: ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}`, err.data, { cause: err.cause })
  }
  if (k instanceof Promise) {
    k.catch(() => {}) // answered below; the schema's late verdict is not wanted
    throw new Err('INTERNAL', `${what}: async params schemas are not supported`)
  }
  return k
}
