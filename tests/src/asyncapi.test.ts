// The generated AsyncAPI documents, checked by the official parser (@asyncapi/parser), for the
// demo's contract, a 50-procedure contract, and generated zod schemas.
import { formatAsyncApi, toAsyncApi, toJsonSchema } from '@rt/asyncapi'
import { defineContract } from '@rt/contract'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import * as z from 'zod'
import { ROOM_NAME, contract as demo } from '../../apps/demo/src/contract.js'
import { bigContract, build, buildContract, contractSpecArb, specArb } from './asyncapi-fixtures.js'
import { errorsOf, parseAsyncApi, type Parsed } from './asyncapi-parser.js'

describe('the demo contract', () => {
  const doc = toAsyncApi(demo, { title: 'Demo chat', version: '1.0.0', servers: { local: 'ws://127.0.0.1:8080' } })
  let json: Parsed
  let yaml: Parsed
  beforeAll(async () => {
    ;[json, yaml] = (await parseAsyncApi([JSON.stringify(doc), formatAsyncApi(doc, 'yaml')])) as [Parsed, Parsed]
  }, 60_000)

  it('validates as JSON and as YAML, with nothing worse than a hint', () => {
    expect(errorsOf(json)).toEqual([])
    expect(errorsOf(yaml)).toEqual([])
    expect(json.diagnostics.filter((d) => d.severity <= 1).map((d) => d.message)).toEqual([])
  })

  it('parses into the operations the contract declares, with every $ref resolved', () => {
    const ids = json.operations.map((o) => o.id).sort()
    const procedures = ['shared.ping', ...['rooms', 'join', 'leave', 'say', 'recent', 'dm', 'typing', 'who'].map((p) => `user.${p}`), 'agent.reply', 'agent.stats']
    const topics = ['presence', 'roomStats', 'messages', 'activity'].flatMap((t) => [`user.${t}`, `user.${t}.subscribe`, `user.${t}.unsubscribe`])
    expect(ids).toEqual([...procedures, ...topics, 'shared.dm', 'agent.task', 'connect', 'heartbeat', 'clientPing', 'refreshCredentials', 'sendCredentials', 'goaway', 'protocolError'].sort())
    for (const p of procedures) {
      const op = json.operations.find((o) => o.id === p)!
      expect([op.action, op.messages, op.reply], p).toEqual(['send', ['call'], ['result', 'error']])
    }
    // Through the resolved document: the join call's `d` is the contract's input schema.
    const join = json.operations.find((o) => o.id === 'user.join')!
    expect(join.payload).toMatchObject({ properties: { d: { type: 'object', properties: { room: { type: 'string', pattern: ROOM_NAME.source } }, required: ['room'] } } })
    expect(json.channels.find((c) => c.id === 'user.messages')).toEqual({ id: 'user.messages', address: 'user/messages/{room}', parameters: ['room'], history: { size: 200 } })
    expect(json.operations.find((o) => o.id === 'connect')).toMatchObject({ action: 'send', messages: ['hello'], reply: ['welcome'] })
  })

  it('carries the zod shapes as they are (spot checks)', () => {
    const s = doc.components.schemas
    expect(s['user.recent.output']).toEqual(toJsonSchema(demo.roles.user.clientToServer.recent.output).schema)
    expect(s['agent.reply.input']).toMatchObject({ properties: { room: { anyOf: [{ type: 'string', pattern: ROOM_NAME.source }, { type: 'null' }] } }, required: ['task', 'room', 'to', 'text'] })
    expect(s['user.activity.payload']).toMatchObject({ properties: { kind: { type: 'string', enum: ['joined', 'left', 'typing'] } } })
    expect(s['user.say.input']).toMatchObject({ properties: { text: { type: 'string', minLength: 1, maxLength: 500 } } })
  })
})

describe('a 50-procedure contract with params, history topics and several roles', () => {
  const contract = bigContract()
  const doc = toAsyncApi(contract, { title: 'Big', version: '3.2.1', description: 'Fifty procedures.' })

  it('validates, and has an operation per procedure, event and topic', { timeout: 60_000 }, async () => {
    const [parsed] = await parseAsyncApi([JSON.stringify(doc)])
    expect(errorsOf(parsed!)).toEqual([])
    expect(parsed!.operations.filter((o) => o.action === 'send' && o.reply?.[0] === 'result')).toHaveLength(50)
    const ops = Object.values(doc.operations)
    expect(ops.filter((o) => o.reply && o.channel && String((o.channel as { $ref: string }).$ref).includes('.proc'))).toHaveLength(50)
    expect(Object.keys(doc.channels).filter((c) => c.includes('.topic'))).toHaveLength(12)
    expect(Object.values(doc.channels).filter((c) => c['x-rt-history'])).toHaveLength(4)
    expect(doc.channels['shared.topic0']?.address).toBe('shared/topic0/{room}/{page}')
  })

  it('notes the dates and bigints it cannot express, and still validates', () => {
    const out = doc.components.schemas['shared.proc0.output'] as { properties: Record<string, Record<string, unknown>> }
    expect(out.properties.at?.['x-rt-unrepresentable']).toBe('date')
    expect(String(doc.operations['shared.proc0']?.description)).toContain('BigInt cannot be represented')
  })
})

describe('generated schemas', () => {
  it('toAsyncApi never throws, whatever zod schema a contract holds', () => {
    fc.assert(
      fc.property(contractSpecArb, (spec) => {
        const doc = toAsyncApi(buildContract(spec), { title: 't', version: '1' })
        expect(doc.asyncapi).toBe('3.0.0')
        expect(() => JSON.stringify(doc)).not.toThrow()
      }),
      { numRuns: 300 },
    )
  })

  it('the documents of generated contracts validate', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(contractSpecArb, { minLength: 12, maxLength: 12 }), async (specs) => {
        const parsed = await parseAsyncApi(specs.map((s) => JSON.stringify(toAsyncApi(buildContract(s), { title: 't', version: '1' }))))
        for (const p of parsed) expect(errorsOf(p)).toEqual([])
      }),
      // One batch: the parser takes about a second a document.
      { numRuns: 1 },
    )
  })

  it('every schema converts, recursive ones included', () => {
    fc.assert(fc.property(specArb, (s) => void expect(toJsonSchema(build(s)).schema).toBeTypeOf('object')))
    const Tree: z.ZodType = z.object({ name: z.string(), get children() { return z.array(Tree) } })
    const c = defineContract({ roles: { user: { clientToServer: { tree: { input: Tree, output: Tree } } } } })
    expect(toAsyncApi(c, { title: 't', version: '1' }).components.schemas['user.tree.input']).toMatchObject({ properties: { children: { items: { $ref: '#/components/schemas/user.tree.input' } } } })
  })
})
