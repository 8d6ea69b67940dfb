import { defineContract } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { serverFromUrl, toAsyncApi } from './to-asyncapi.js'

const contract = defineContract({
  shared: {
    clientToServer: { ping: { input: z.object({}), output: z.object({ at: z.number() }) } },
    serverToClient: { news: { payload: z.object({ headline: z.string() }), subscribe: true } },
  },
  roles: {
    user: {
      clientToServer: {
        join: {
          input: z.object({ room: z.string().min(1).max(64) }).meta({ description: 'Join a room.', examples: [{ room: 'lobby' }] }),
          output: z.object({ members: z.number() }).meta({ examples: [{ members: 3 }] }),
        },
        note: { input: z.string().optional(), output: z.object({ at: z.date() }) },
      },
      serverToClient: {
        feed: {
          payload: z.object({ text: z.string() }),
          subscribe: true,
          params: z.object({ room: z.string().meta({ examples: ['r1'] }), kind: z.enum(['chat', 'system']) }).meta({ examples: [{ room: 'r1', kind: 'chat' }] }),
          history: { size: 200, ttlMs: 60_000 },
        },
      },
    },
    agent: { serverToClient: { task: { payload: z.object({ id: z.string() }) } } },
  },
})
const doc = toAsyncApi(contract, { title: 'Chat', version: '2.1.0', servers: { prod: 'wss://chat.example.com/rt' } })
type O = Record<string, any>
const ops = doc.operations as Record<string, O>
const channels = doc.channels as Record<string, O>

describe('toAsyncApi', () => {
  it('has the header, the servers and one connection channel with the WebSocket binding', () => {
    expect(doc).toMatchObject({ asyncapi: '3.0.0', info: { title: 'Chat', version: '2.1.0' }, defaultContentType: 'application/json' })
    expect(doc.servers).toEqual({ prod: { host: 'chat.example.com', protocol: 'wss', pathname: '/rt' } })
    expect(channels.connection?.bindings).toEqual({ ws: { method: 'GET', bindingVersion: '0.1.0' } })
    expect(doc.info.tags?.map((t) => t.name)).toEqual(['shared', 'user', 'agent'])
  })

  it('models the handshake: send hello (role ∈ roles), reply welcome', () => {
    expect(ops.connect).toMatchObject({ action: 'send', messages: [{ $ref: '#/channels/connection/messages/hello' }], reply: { messages: [{ $ref: '#/channels/connection/messages/welcome' }] } })
    expect(channels.connection?.messages.hello.payload.properties.role.enum).toEqual(['user', 'agent'])
    expect(ops.connect?.description).toContain('| 4001 | UNAUTHORIZED |')
  })

  it('gives every procedure a send with a reply of result or error, tagged with its scope', () => {
    expect(ops['user.join']).toMatchObject({
      action: 'send',
      channel: { $ref: '#/channels/user.join' },
      messages: [{ $ref: '#/channels/user.join/messages/call' }],
      reply: { messages: [{ $ref: '#/channels/user.join/messages/result' }, { $ref: '#/channels/user.join/messages/error' }] },
      tags: [{ name: 'user' }],
      'x-rt-roles': ['user'],
      description: 'Join a room.',
    })
    expect(ops['shared.ping']).toMatchObject({ tags: [{ name: 'shared' }], 'x-rt-roles': ['user', 'agent'] })
  })

  it('puts the contract schemas in components and the frames around them', () => {
    const call = channels['user.join']?.messages.call
    expect(call.payload).toMatchObject({ properties: { t: { const: 'call' }, p: { const: 'join' }, d: { $ref: '#/components/schemas/user.join.input' } }, required: ['t', 'id', 'p', 'd'] })
    expect(doc.components.schemas['user.join.input']).toMatchObject({ type: 'object', properties: { room: { type: 'string', minLength: 1, maxLength: 64 } } })
    // An input that accepts undefined may be left out of the frame.
    expect(channels['user.note']?.messages.call.payload.required).toEqual(['t', 'id', 'p'])
  })

  it('turns .meta() examples into message examples of whole frames', () => {
    expect(channels['user.join']?.messages.call.examples).toEqual([{ payload: { t: 'call', id: 1, p: 'join', d: { room: 'lobby' } } }])
    expect(channels['user.join']?.messages.result.examples).toEqual([{ payload: { t: 'result', id: 1, d: { members: 3 } } }])
  })

  it('notes unrepresentable types in the schema and the operation instead of failing', () => {
    expect((doc.components.schemas['user.note.output'] as O).properties.at['x-rt-unrepresentable']).toBe('date')
    expect(ops['user.note']?.description).toContain('/properties/at: Date cannot be represented in JSON Schema')
  })

  it('gives every event a receive', () => {
    expect(ops['agent.task']).toMatchObject({ action: 'receive', messages: [{ $ref: '#/channels/agent.task/messages/event' }], tags: [{ name: 'agent' }] })
    expect(channels['agent.task']?.messages.event.payload.properties.n).toEqual({ type: 'string', const: 'task', description: 'Event name.' })
  })

  it('gives every topic a subscribe, a receive and an unsubscribe, params as channel parameters', () => {
    const feed = channels['user.feed']!
    expect(feed.address).toBe('user/feed/{room}/{kind}')
    expect(feed.parameters).toEqual({
      room: { description: '`q.room` of the sub frame (string).', examples: ['r1'] },
      kind: { description: '`q.kind` of the sub frame (string).', enum: ['chat', 'system'] },
    })
    expect(ops['user.feed.subscribe']).toMatchObject({ action: 'send', reply: { messages: [{ $ref: '#/channels/user.feed/messages/subAck' }, { $ref: '#/channels/user.feed/messages/error' }] } })
    expect(ops['user.feed']).toMatchObject({ action: 'receive', messages: [{ $ref: '#/channels/user.feed/messages/pub' }] })
    expect(ops['user.feed.unsubscribe']).toMatchObject({ action: 'send', messages: [{ $ref: '#/channels/user.feed/messages/unsub' }] })
    expect(feed.messages.sub.examples).toEqual([{ payload: { t: 'sub', id: 1, n: 'feed', q: { room: 'r1', kind: 'chat' } } }])
    expect(channels['shared.news']?.address).toBe('shared/news')
    expect(channels['shared.news']?.parameters).toBeUndefined()
  })

  it('notes history: x-rt-history, the position fields of sub, subAck and pub, and the description', () => {
    const feed = channels['user.feed']!
    expect(feed['x-rt-history']).toEqual({ size: 200, ttlMs: 60_000 })
    expect(ops['user.feed']?.['x-rt-history']).toEqual({ size: 200, ttlMs: 60_000 })
    expect(feed.description).toContain('the last 200 publications of each stream are kept, none older than 60000 ms')
    expect(Object.keys(feed.messages.sub.payload.properties)).toContain('s')
    expect(feed.messages.subAck.payload.properties.d.required).toEqual(['k', 'r', 'o', 'e'])
    expect(feed.messages.pub.payload.required).toEqual(['t', 'n', 'k', 'd', 'o', 'e'])
    expect(Object.keys(channels['shared.news']?.messages.sub.payload.properties)).not.toContain('s')
  })

  it('keeps ids unique and legal when names are not', () => {
    const odd = defineContract({ roles: { 'a b': { clientToServer: { 'x/y': { input: z.object({}), output: z.object({}) }, 'x_y': { input: z.object({}), output: z.object({}) } } } } })
    const d = toAsyncApi(odd, { title: 't', version: '1' })
    expect(Object.keys(d.operations).filter((k) => k.startsWith('a_b'))).toEqual(['a_b.x_y', 'a_b.x_y_2'])
    expect(Object.keys(d.components.schemas).every((k) => /^[A-Za-z0-9_.-]+$/.test(k))).toBe(true)
  })
})

describe('serverFromUrl', () => {
  it('reads ws and wss URLs, and refuses others', () => {
    expect(serverFromUrl('ws://127.0.0.1:8080')).toEqual({ host: '127.0.0.1:8080', protocol: 'ws' })
    expect(() => serverFromUrl('http://x')).toThrow(/must start with ws:\/\/ or wss:\/\//)
    expect(() => serverFromUrl('nope')).toThrow(/is not a URL/)
  })
})
