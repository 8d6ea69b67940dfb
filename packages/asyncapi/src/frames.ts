// JSON Schemas of the wire frames (docs/protocol.md), one per frame type, with the contract's
// schemas plugged into their `d` (data) and `q` (params) fields.
import { ERROR_CODES, PROTOCOL_VERSION } from '@rt/contract'
import type { JsonSchema } from './json-schema.js'

/** A field of a frame: its schema and whether the frame always carries it. */
export interface Field {
  schema: JsonSchema
  required: boolean
}

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra })
const name = (value: string, description: string): JsonSchema => ({ type: 'string', const: value, description })
const callId: JsonSchema = {
  type: 'integer',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Chosen by the client; the answer carries the same id.',
}
const offset: JsonSchema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Offset in the stream: 1, 2, 3, …' }
const epoch = str('Names one life of the stream storage: another epoch means the stream was reset.', { minLength: 1, maxLength: 64 })
const streamKey = str('The stream key: canonical JSON of the validated params (object keys sorted), "" without params.')

function frame(t: string, fields: Record<string, Field>): JsonSchema {
  const required = ['t', ...Object.entries(fields).filter(([, f]) => f.required).map(([k]) => k)]
  const properties: Record<string, JsonSchema> = { t: name(t, 'Frame type.') }
  for (const [k, f] of Object.entries(fields)) properties[k] = f.schema
  return { type: 'object', properties, required }
}

const req = (schema: JsonSchema): Field => ({ schema, required: true })
const opt = (schema: JsonSchema): Field => ({ schema, required: false })

/** The client's first frame; `role` is one of the contract's roles. */
export const helloFrame = (roles: string[]): JsonSchema =>
  frame('hello', {
    v: req({ type: 'integer', const: PROTOCOL_VERSION, description: 'Protocol version.' }),
    role: req({ type: 'string', enum: roles, description: 'The role this connection speaks as: it picks the vocabulary.' }),
    auth: opt({ description: 'Credentials, passed as they are to the server\'s `authenticate`.' }),
  })

/** The server's answer to an accepted hello. */
export const welcomeFrame = (): JsonSchema =>
  frame('welcome', {
    v: req({ type: 'integer', const: PROTOCOL_VERSION, description: 'Protocol version.' }),
    conn: req(str('Connection id.')),
    node: req(str('Id of the server node that holds the connection.')),
    hb: req({ type: 'integer', minimum: 1, description: 'The server pings every `hb` ms; 2 × hb of silence means a dead link.' }),
    mf: req({ type: 'integer', minimum: 1, description: 'The largest frame the server accepts, in bytes.' }),
    x: opt(expiry('When the credentials expire, if they do: the server asks for fresh ones before (a `refresh` frame).')),
  })

const expiry = (description: string): JsonSchema => ({ type: 'number', description: `${description} Milliseconds since the epoch.` })

/** The server asks for fresh credentials before `x`. */
export const refreshFrame = (): JsonSchema => frame('refresh', { x: req(expiry('When the current credentials expire.')) })

/** Fresh credentials from the client, asked for or of its own accord. */
export const authFrame = (): JsonSchema =>
  frame('auth', {
    id: req(callId),
    auth: opt({ description: "Credentials, passed as they are to the server's `authenticate` (same user and role required)." }),
  })

/** The `auth` frame `id` was accepted. */
export const authedFrame = (): JsonSchema => frame('authed', { id: req(callId), x: opt(expiry('When the new credentials expire, if they do.')) })

/** A heartbeat frame: `ping` or `pong`, sent either way. */
export const bareFrame = (t: 'ping' | 'pong'): JsonSchema => frame(t, {})

/** The server is shutting down. */
export const goawayFrame = (): JsonSchema => frame('goaway', { reason: req(str('Why the server is going away, e.g. "shutdown".')) })

/** An error: with `id` it answers a call or a sub, without it a frame the server could not use. */
export const errorFrame = (withId: boolean): JsonSchema =>
  frame('error', {
    ...(withId ? { id: req(callId) } : {}),
    code: req({ type: 'string', enum: [...ERROR_CODES] }),
    message: req(str('Human-readable; not for matching on.')),
    data: opt({ description: 'For BAD_REQUEST from validation: `{ issues: [{ message, path? }] }`; else what the handler put in its RtError.' }),
  })

/** A call of one procedure, its input in `d`. */
export const callFrame = (procedure: string, input: Field): JsonSchema =>
  frame('call', {
    id: req(callId),
    p: req(name(procedure, 'Procedure name.')),
    // `d` stays a bare $ref (draft-07 ignores a $ref's siblings); `required` says whether it may be left out.
    d: input,
    tc: opt({ type: 'object', additionalProperties: { type: 'string' }, description: 'Trace context of the caller (e.g. `traceparent`).' }),
  })

/** The result of a call, its output in `d`. */
export const resultFrame = (output: Field): JsonSchema =>
  frame('result', { id: req(callId), d: output })

/** An event, its payload in `d`. */
export const eventFrame = (event: string, payload: Field): JsonSchema =>
  frame('event', { n: req(name(event, 'Event name.')), d: payload })

/** A subscription to one stream of a topic: params in `q`, for a history topic the position to recover from in `s`. */
export const subFrame = (topic: string, params: Field | undefined, history: boolean): JsonSchema =>
  frame('sub', {
    id: req(callId),
    n: req(name(topic, 'Topic name.')),
    ...(params ? { q: params } : {}),
    ...(history
      ? { s: opt({ type: 'object', properties: { o: offset, e: epoch }, required: ['o', 'e'], description: 'Recover everything after this position.' }) }
      : {}),
  })

/** The `result` that accepts a sub: the stream key, and for a history topic where it stands. */
export const subAckFrame = (history: boolean): JsonSchema =>
  frame('result', {
    id: req(callId),
    d: req({
      type: 'object',
      properties: {
        k: streamKey,
        ...(history ? { r: { type: 'boolean', description: 'True when every publication after `s` follows.' }, o: offset, e: epoch } : {}),
      },
      required: history ? ['k', 'r', 'o', 'e'] : ['k'],
    }),
  })

/** Stops one stream of a topic. */
export const unsubFrame = (topic: string): JsonSchema => frame('unsub', { n: req(name(topic, 'Topic name.')), k: req(streamKey) })

/** A publication on a stream, its payload in `d`, for a history topic with its offset and epoch. */
export const pubFrame = (topic: string, payload: Field, history: boolean): JsonSchema =>
  frame('pub', {
    n: req(name(topic, 'Topic name.')),
    k: req(streamKey),
    d: payload,
    ...(history ? { o: req(offset), e: req(epoch) } : {}),
  })
