// Contracts and zod schemas for the @rt/asyncapi tests: a big generated contract, and a
// fast-check generator of schema descriptions that build into zod schemas (twice, when a test
// needs two equal but separate contracts, as two files loaded by the CLI are).
import { defineContract, type AnyContract, type Vocabulary } from '@rt/contract'
import fc from 'fast-check'
import * as z from 'zod'

/** A contract with 50 procedures over three roles and shared, events, topics with params and history. */
export function bigContract(): AnyContract {
  const scopes = ['shared', 'user', 'agent', 'admin'] as const
  const vocab: Record<string, Required<Vocabulary>> = Object.fromEntries(scopes.map((s) => [s, { clientToServer: {}, serverToClient: {} }]))
  for (let i = 0; i < 50; i++) {
    const scope = vocab[scopes[i % scopes.length]!]!
    scope.clientToServer[`proc${i}`] = {
      input: z.object({ id: z.string().min(1).max(64), n: z.int().min(0).optional(), tags: z.array(z.enum(['a', 'b', 'c'])).max(8) }).meta({ examples: [{ id: `x${i}`, tags: ['a'] }] }),
      output: i % 5 === 0 ? z.object({ at: z.date(), big: z.bigint() }) : z.object({ ok: z.boolean(), items: z.array(z.object({ k: z.string(), v: z.number().nullable() })) }),
    }
  }
  for (let i = 0; i < 12; i++) {
    const scope = vocab[scopes[i % scopes.length]!]!
    scope.serverToClient[`event${i}`] = { payload: z.discriminatedUnion('kind', [z.object({ kind: z.literal('a'), x: z.number() }), z.object({ kind: z.literal('b'), y: z.string() })]) }
    scope.serverToClient[`topic${i}`] = {
      payload: z.object({ seq: z.int(), text: z.string() }),
      subscribe: true,
      ...(i % 2 === 0 ? { params: z.object({ room: z.string().regex(/^[a-z0-9-]{1,24}$/), page: z.int().min(1) }) } : {}),
      ...(i % 3 === 0 ? { history: { size: 100 + i, ...(i % 2 ? { ttlMs: 60_000 } : {}) } } : {}),
    }
  }
  const { shared, ...roles } = vocab
  return defineContract({ shared: shared!, roles } as never)
}

/** A description of a zod schema: plain data, so the same one can be built twice. */
export type Spec =
  | { k: 'string'; min?: number | undefined; max?: number | undefined; regex?: boolean | undefined; email?: boolean | undefined }
  | { k: 'number'; int: boolean; min?: number | undefined; positive?: boolean | undefined }
  | { k: 'boolean' } | { k: 'null' } | { k: 'unknown' } | { k: 'date' } | { k: 'bigint' }
  | { k: 'literal'; v: string | number | boolean }
  | { k: 'enum'; vs: string[] }
  | { k: 'array'; of: Spec; max?: number | undefined }
  | { k: 'tuple'; of: Spec[] }
  | { k: 'record'; of: Spec }
  | { k: 'object'; shape: [string, Spec, boolean][]; strict: boolean }
  | { k: 'union'; of: Spec[] }
  | { k: 'nullable'; of: Spec }
  | { k: 'transform'; of: Spec }
  | { k: 'meta'; of: Spec; description: string; example: boolean }

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })
const key = fc.stringMatching(/^[a-z][a-zA-Z0-9_ -]{0,6}$/)

/** Schema descriptions: every zod shape the JSON Schema tools meet in contracts, some with no JSON Schema form. */
export const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ k: fc.constant('string' as const), min: opt(fc.nat(4)), max: opt(fc.integer({ min: 4, max: 64 })), regex: opt(fc.boolean()), email: opt(fc.boolean()) }, { requiredKeys: ['k'] }),
    fc.record({ k: fc.constant('number' as const), int: fc.boolean(), min: opt(fc.integer({ min: -5, max: 5 })), positive: opt(fc.boolean()) }, { requiredKeys: ['k', 'int'] }),
    fc.constantFrom<Spec>({ k: 'boolean' }, { k: 'null' }, { k: 'unknown' }, { k: 'date' }, { k: 'bigint' }),
    fc.record({ k: fc.constant('literal' as const), v: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean()) }),
    fc.record({ k: fc.constant('enum' as const), vs: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }) }),
    fc.record({ k: fc.constant('array' as const), of: tie('spec'), max: opt(fc.nat(10)) }, { requiredKeys: ['k', 'of'] }),
    fc.record({ k: fc.constant('tuple' as const), of: fc.array(tie('spec'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ k: fc.constant('record' as const), of: tie('spec') }),
    fc.record({ k: fc.constant('object' as const), shape: fc.uniqueArray(fc.tuple(key, tie('spec'), fc.boolean()), { maxLength: 4, selector: (e) => e[0] }), strict: fc.boolean() }),
    fc.record({ k: fc.constant('union' as const), of: fc.array(tie('spec'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ k: fc.constant('nullable' as const), of: tie('spec') }),
    fc.record({ k: fc.constant('transform' as const), of: tie('spec') }),
    fc.record({ k: fc.constant('meta' as const), of: tie('spec'), description: fc.string({ maxLength: 12 }), example: fc.boolean() }),
  ),
})).spec

/** Builds a fresh zod schema from a description. */
export function build(s: Spec): z.ZodType {
  switch (s.k) {
    case 'string': {
      let x = s.email ? z.email() : z.string()
      if (s.min !== undefined) x = x.min(s.min)
      if (s.max !== undefined) x = x.max(s.max)
      return s.regex ? x.regex(/^[a-z]*$/) : x
    }
    case 'number': {
      let x = s.int ? z.int() : z.number()
      if (s.min !== undefined) x = x.min(s.min)
      return s.positive ? x.positive() : x
    }
    case 'boolean': return z.boolean()
    case 'null': return z.null()
    case 'unknown': return z.unknown()
    case 'date': return z.date()
    case 'bigint': return z.bigint()
    case 'literal': return z.literal(s.v)
    case 'enum': return z.enum(s.vs as [string, ...string[]])
    case 'array': return s.max === undefined ? z.array(build(s.of)) : z.array(build(s.of)).max(s.max)
    case 'tuple': return z.tuple(s.of.map(build) as [z.ZodType, ...z.ZodType[]])
    case 'record': return z.record(z.string(), build(s.of))
    case 'object': {
      const shape = Object.fromEntries(s.shape.map(([k, v, optional]) => [k, optional ? build(v).optional() : build(v)]))
      return s.strict ? z.strictObject(shape) : z.object(shape)
    }
    case 'union': return z.union(s.of.map(build) as [z.ZodType, z.ZodType, ...z.ZodType[]])
    case 'nullable': return build(s.of).nullable()
    case 'transform': return build(s.of).transform((v) => v)
    case 'meta': return build(s.of).meta({ description: s.description, ...(s.example ? { examples: [null] } : {}) })
  }
}

/** A contract description: a few procedures, events and topics per scope, each schema a Spec. */
export const contractSpecArb = fc.record({
  procedures: fc.array(fc.tuple(fc.constantFrom('shared', 'user', 'agent'), specArb, specArb), { minLength: 1, maxLength: 4 }),
  messages: fc.array(fc.tuple(fc.constantFrom('shared', 'user', 'agent'), specArb, fc.option(specArb, { nil: undefined }), fc.boolean(), fc.boolean()), { maxLength: 4 }),
})

export type ContractSpec = typeof contractSpecArb extends fc.Arbitrary<infer T> ? T : never

/** Builds a contract from its description (fresh zod schemas every time). */
export function buildContract(spec: ContractSpec): AnyContract {
  const vocab: Record<string, Required<Vocabulary>> = { shared: { clientToServer: {}, serverToClient: {} }, user: { clientToServer: {}, serverToClient: {} }, agent: { clientToServer: {}, serverToClient: {} } }
  spec.procedures.forEach(([scope, input, output], i) => (vocab[scope]!.clientToServer[`p${i}`] = { input: build(input), output: build(output) }))
  spec.messages.forEach(([scope, payload, params, topic, history], i) => {
    vocab[scope]!.serverToClient[`m${i}`] = topic
      ? { payload: build(payload), subscribe: true, ...(params ? { params: build(params) } : {}), ...(history ? { history: { size: 10 } } : {}) }
      : { payload: build(payload) }
  })
  const { shared, ...roles } = vocab
  return defineContract({ shared: shared!, roles } as never)
}

/** Values shaped like a Spec (most of them valid for it); objects carry only their declared fields. */
export function valueOf(s: Spec): fc.Arbitrary<unknown> {
  switch (s.k) {
    case 'string': return fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[a-z]{0,8}$/), fc.constantFrom('a@b.io', ''))
    case 'number': return fc.oneof(fc.integer({ min: -8, max: 8 }), fc.double({ min: -8, max: 8, noNaN: true }))
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'unknown': case 'date': case 'bigint': return fc.jsonValue({ maxDepth: 1 })
    case 'literal': return fc.constant(s.v)
    case 'enum': return fc.oneof(fc.constantFrom(...s.vs), fc.string({ maxLength: 4 }))
    case 'array': return fc.array(valueOf(s.of), { maxLength: 12 })
    case 'tuple': return fc.tuple(...s.of.map(valueOf))
    case 'record': return fc.dictionary(fc.string({ maxLength: 3 }), valueOf(s.of), { maxKeys: 3 })
    case 'object': return fc.record(Object.fromEntries(s.shape.map(([k, v]) => [k, valueOf(v)])), { requiredKeys: s.shape.filter(([, , o]) => !o).map(([k]) => k) })
    case 'union': return fc.oneof(...s.of.map(valueOf))
    case 'nullable': return fc.oneof(fc.constant(null), valueOf(s.of))
    case 'transform': case 'meta': return valueOf(s.of)
  }
}

/** A small edit of a Spec: the kind of change a contract goes through between two releases. */
export function mutationOf(s: Spec): fc.Arbitrary<Spec> {
  const around: fc.Arbitrary<Spec>[] = [
    fc.constant<Spec>({ k: 'nullable', of: s }),
    specArb.map((t): Spec => ({ k: 'union', of: [s, t] })),
    specArb,
  ]
  const n = fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined })
  const inner: fc.Arbitrary<Spec>[] = (() => {
    switch (s.k) {
      case 'string': return [fc.record({ min: n, max: n, regex: fc.boolean(), email: fc.boolean() }).map((m) => ({ ...s, ...m }))]
      case 'number': return [fc.record({ int: fc.boolean(), min: n, positive: fc.boolean() }).map((m) => ({ ...s, ...m }))]
      case 'enum': return [fc.uniqueArray(fc.constantFrom(...s.vs, 'x', 'y'), { minLength: 1 }).map((vs) => ({ ...s, vs }))]
      case 'array': return [n.map((max) => ({ ...s, ...(max === undefined ? {} : { max }) })), mutationOf(s.of).map((of) => ({ ...s, of }))]
      case 'record': return [mutationOf(s.of).map((of) => ({ ...s, of }))]
      case 'nullable': case 'transform': case 'meta': return [fc.constant(s.of), mutationOf(s.of).map((of) => ({ ...s, of }))]
      case 'union': return [fc.constant<Spec>(s.of[0]!), ...s.of.map((b, i) => mutationOf(b).map((m) => ({ ...s, of: s.of.map((x, j) => (j === i ? m : x)) })))]
      case 'object': return [
        fc.boolean().map((strict) => ({ ...s, strict })),
        fc.tuple(key, specArb, fc.boolean()).map((f) => ({ ...s, shape: [...s.shape.filter(([k]) => k !== f[0]), f] })),
        ...s.shape.map(([k, v, o], i) => fc.oneof(
          fc.constant({ ...s, shape: s.shape.filter((_, j) => j !== i) }),
          fc.constant({ ...s, shape: s.shape.map((x, j) => (j === i ? ([k, v, !o] as [string, Spec, boolean]) : x)) }),
          mutationOf(v).map((m) => ({ ...s, shape: s.shape.map((x, j) => (j === i ? ([k, m, o] as [string, Spec, boolean]) : x)) })),
        )),
      ]
      default: return []
    }
  })()
  return fc.oneof(...around, ...inner)
}
