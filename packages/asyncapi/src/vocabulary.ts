// One scope of a contract (`shared` or a role) as channels and operations: a procedure is a
// send with a reply, an event a receive, a topic a subscribe (send + reply), a receive and an unsubscribe.
import { stableKey, type EventDef, type ProcedureDef, type TopicDef, type Vocabulary } from '@rt/contract'
import { descriptionOf, examplesOf, type DocumentBuilder, type PlacedSchema } from './document.js'
import { callFrame, eventFrame, pubFrame, resultFrame, subAckFrame, subFrame, unsubFrame } from './frames.js'
import type { JsonSchema } from './json-schema.js'

/** Component message of an error that answers a call or a sub. */
export const CALL_ERROR = 'callError'

interface Scope {
  doc: DocumentBuilder
  /** `shared` or the role name. */
  name: string
  /** Roles whose connections may use what this scope declares. */
  roles: string[]
}

/** Adds every procedure, event and topic of one scope. */
export function addVocabulary(doc: DocumentBuilder, name: string, vocab: Vocabulary, roles: string[]): void {
  const scope: Scope = { doc, name, roles }
  for (const [n, def] of Object.entries(vocab.clientToServer ?? {})) addProcedure(scope, n, def)
  for (const [n, def] of Object.entries(vocab.serverToClient ?? {})) {
    if (def.subscribe === true) addTopic(scope, n, def)
    else addEvent(scope, n, def)
  }
}

const plainAddress = (s: string): string => s.replace(/[{}]/g, '_')

function common(scope: Scope, what: string, schema: PlacedSchema, extra: string[] = []): Record<string, unknown> {
  const text = [descriptionOf(schema.json), ...extra, ...notes(schema)].filter(Boolean).join('\n\n')
  return {
    title: what,
    ...(text ? { description: text } : {}),
    tags: [{ name: scope.name }],
    'x-rt-roles': scope.roles,
  }
}

function notes(...schemas: PlacedSchema[]): string[] {
  const all = schemas.flatMap((s) => s.notes)
  return all.length ? [`Not expressed in this document (any value passes there):\n${all.map((n) => `- ${n}`).join('\n')}`] : []
}

function addProcedure(scope: Scope, name: string, def: ProcedureDef): void {
  const { doc } = scope
  const input = doc.schema(def.input, scope.name, name, 'input')
  const output = doc.schema(def.output, scope.name, name, 'output')
  const ch = doc.id('channels', scope.name, name)
  doc.channels[ch] = {
    address: plainAddress(`${scope.name}/${name}`),
    title: `Procedure ${name}`,
    messages: {
      call: message('call', `Call ${name}`, callFrame(name, input.field), examplesOf(input.json).map((d) => ({ t: 'call', id: 1, p: name, d }))),
      result: message('result', `Result of ${name}`, resultFrame(output.field), examplesOf(output.json).map((d) => ({ t: 'result', id: 1, d }))),
      error: { $ref: `#/components/messages/${CALL_ERROR}` },
    },
  }
  const channel = doc.channelRef(ch)
  doc.operations[doc.id('operations', scope.name, name)] = {
    action: 'send',
    channel,
    summary: `Call ${name}: one result or one error with the same id.`,
    ...common(scope, `Call ${name}`, input, notes(output)),
    messages: [doc.messageRef(ch, 'call')],
    reply: { channel, messages: [doc.messageRef(ch, 'result'), doc.messageRef(ch, 'error')] },
  }
}

function addEvent(scope: Scope, name: string, def: EventDef): void {
  const { doc } = scope
  const payload = doc.schema(def.payload, scope.name, name, 'payload')
  const ch = doc.id('channels', scope.name, name)
  doc.channels[ch] = {
    address: plainAddress(`${scope.name}/${name}`),
    title: `Event ${name}`,
    messages: { event: message('event', `Event ${name}`, eventFrame(name, payload.field), examplesOf(payload.json).map((d) => ({ t: 'event', n: name, d }))) },
  }
  doc.operations[doc.id('operations', scope.name, name)] = {
    action: 'receive',
    channel: doc.channelRef(ch),
    summary: `Event ${name}: the server picks the recipients (a connection, a user, a room). At most once.`,
    ...common(scope, `Event ${name}`, payload),
    messages: [doc.messageRef(ch, 'event')],
  }
}

function addTopic(scope: Scope, name: string, def: TopicDef): void {
  const { doc } = scope
  const params = def.params ? doc.schema(def.params, scope.name, name, 'params') : undefined
  const payload = doc.schema(def.payload, scope.name, name, 'payload')
  const history = def.history ? historyText(def.history) : undefined
  const ch = doc.id('channels', scope.name, name)
  const { address, parameters } = topicAddress(plainAddress(`${scope.name}/${name}`), params?.json)
  const paramExamples = params ? examplesOf(params.json) : [undefined]
  const pubExamples = paramExamples.length === 0 ? [] : examplesOf(payload.json).map((d) => ({ t: 'pub', n: name, k: safeKey(paramExamples[0]), d, ...(def.history ? { o: 1, e: 'lq3v9k-4f2a' } : {}) }))
  doc.channels[ch] = {
    address,
    title: `Topic ${name}`,
    description: [`Topic ${name}: the client opts in with sub; ${params ? 'each distinct params value is its own stream' : 'one stream'}.`, history].filter(Boolean).join(' '),
    ...(parameters ? { parameters } : {}),
    messages: {
      sub: message('sub', `Subscribe to ${name}`, subFrame(name, params?.field, def.history !== undefined), paramExamples.map((q) => ({ t: 'sub', id: 1, n: name, ...(q === undefined ? {} : { q }) }))),
      subAck: message('subAck', `Subscribed to ${name}`, subAckFrame(def.history !== undefined), []),
      error: { $ref: `#/components/messages/${CALL_ERROR}` },
      pub: message('pub', `Publication on ${name}`, pubFrame(name, payload.field, def.history !== undefined), pubExamples),
      unsub: message('unsub', `Unsubscribe from ${name}`, unsubFrame(name), []),
    },
    ...(def.history ? { 'x-rt-history': { ...def.history } } : {}),
  }
  const channel = doc.channelRef(ch)
  const base = common(scope, `Topic ${name}`, payload, [...(history ? [history] : []), ...(params ? notes(params) : [])])
  doc.operations[doc.id('operations', scope.name, name, 'subscribe')] = {
    action: 'send',
    channel,
    summary: `Subscribe to ${name}: acknowledged with the stream key, or refused (FORBIDDEN, BAD_REQUEST, NOT_FOUND, RATE_LIMITED).`,
    ...base,
    title: `Subscribe to ${name}`,
    messages: [doc.messageRef(ch, 'sub')],
    reply: { channel, messages: [doc.messageRef(ch, 'subAck'), doc.messageRef(ch, 'error')] },
  }
  doc.operations[doc.id('operations', scope.name, name)] = {
    action: 'receive',
    channel,
    summary: `Publications on ${name}, for each stream the client subscribed to.${def.history ? '' : ' At most once.'}`,
    ...base,
    messages: [doc.messageRef(ch, 'pub')],
    ...(def.history ? { 'x-rt-history': { ...def.history } } : {}),
  }
  doc.operations[doc.id('operations', scope.name, name, 'unsubscribe')] = {
    action: 'send',
    channel,
    summary: `Stop one stream of ${name}; no answer.`,
    ...base,
    title: `Unsubscribe from ${name}`,
    messages: [doc.messageRef(ch, 'unsub')],
  }
}

function message(name: string, title: string, payload: JsonSchema, examples: unknown[]): Record<string, unknown> {
  return { name, title, payload, ...(examples.length ? { examples: examples.map((p) => ({ payload: p })) } : {}) }
}

function historyText(h: { size: number; ttlMs?: number }): string {
  const ttl = h.ttlMs === undefined ? '' : `, none older than ${h.ttlMs} ms`
  return (
    `History: the last ${h.size} publications of each stream are kept${ttl}. Every pub carries its offset \`o\` and epoch \`e\`; ` +
    'a sub with `s: { o, e }` replays what followed that position right after the subAck, whose `r` says whether all of it could be recovered.'
  )
}

function safeKey(params: unknown): string {
  try {
    return stableKey(params)
  } catch {
    return ''
  }
}

const PARAM = /^[A-Za-z0-9_-]+$/

/** The channel address of a topic, with one channel parameter per top-level params property. */
function topicAddress(base: string, params: JsonSchema | undefined): { address: string; parameters?: Record<string, Record<string, unknown>> } {
  if (!params) return { address: base }
  const props = params.type === 'object' && typeof params.properties === 'object' && params.properties !== null ? (params.properties as Record<string, JsonSchema>) : undefined
  const keys = props ? Object.keys(props) : []
  if (!props || keys.length === 0 || !keys.every((k) => PARAM.test(k))) {
    return { address: `${base}/{params}`, parameters: { params: { description: 'The stream key: the canonical JSON of `q`, the params of the sub frame.' } } }
  }
  const parameters: Record<string, Record<string, unknown>> = {}
  for (const k of keys) {
    const p = typeof props[k] === 'object' && props[k] !== null ? props[k] : {}
    const enumValues = Array.isArray(p.enum) && p.enum.every((v) => typeof v === 'string') ? p.enum : undefined
    const examples = examplesOf(p).filter((v): v is string => typeof v === 'string')
    parameters[k] = {
      description: `\`q.${k}\` of the sub frame${typeof p.type === 'string' ? ` (${p.type})` : ''}${typeof p.description === 'string' ? `: ${p.description}` : ''}.`,
      ...(enumValues ? { enum: enumValues } : {}),
      ...(examples.length ? { examples } : {}),
    }
  }
  return { address: `${base}/${keys.map((k) => `{${k}}`).join('/')}`, parameters }
}
