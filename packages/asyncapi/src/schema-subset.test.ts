import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { toJsonSchema } from './json-schema.js'
import { subsetProblems } from './schema-subset.js'

/** The verdict of "does `b` accept every value `a` accepts?" for two zod schemas. */
function verdict(a: z.ZodType, b: z.ZodType): 'yes' | 'no' | 'maybe' {
  const problems = subsetProblems(toJsonSchema(a).schema, toJsonSchema(b).schema)
  return problems.length === 0 ? 'yes' : problems.some((p) => p.verdict === 'no') ? 'no' : 'maybe'
}

const cases: [string, z.ZodType, z.ZodType, 'yes' | 'no' | 'maybe'][] = [
  ['same object', z.object({ a: z.string() }), z.object({ a: z.string() }), 'yes'],
  ['optional field added', z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number().optional() }), 'yes'],
  ['required field added', z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number() }), 'no'],
  ['field made optional', z.object({ a: z.string() }), z.object({ a: z.string().optional() }), 'yes'],
  ['optional field made required', z.object({ a: z.string().optional() }), z.object({ a: z.string() }), 'no'],
  ['field removed from an open object', z.object({ a: z.string(), b: z.number() }), z.object({ a: z.string() }), 'yes'],
  ['field removed from a strict object', z.object({ a: z.string(), b: z.number() }), z.strictObject({ a: z.string() }), 'no'],
  ['field type changed', z.object({ a: z.string() }), z.object({ a: z.number() }), 'no'],
  ['maxLength lowered', z.string().max(64), z.string().max(32), 'no'],
  ['maxLength raised', z.string().max(32), z.string().max(64), 'yes'],
  ['minLength added', z.string(), z.string().min(1), 'no'],
  ['minLength dropped', z.string().min(1), z.string(), 'yes'],
  ['pattern added', z.string(), z.string().regex(/^a/), 'no'],
  ['pattern changed', z.string().regex(/^a/), z.string().regex(/^b/), 'maybe'],
  ['pattern kept', z.string().regex(/^a/), z.string().regex(/^a/), 'yes'],
  ['format added', z.string(), z.email(), 'no'],
  ['number to integer', z.number(), z.int(), 'no'],
  ['integer to number', z.int(), z.number(), 'yes'],
  ['minimum raised', z.number().min(0), z.number().min(1), 'no'],
  ['positive vs nonnegative', z.number().positive(), z.number().nonnegative(), 'yes'],
  ['nonnegative vs positive', z.number().nonnegative(), z.number().positive(), 'no'],
  ['integer exclusive bound equals inclusive', z.int().gt(0), z.int().min(1), 'yes'],
  ['multipleOf added', z.int(), z.int().multipleOf(2), 'no'],
  ['multipleOf coarser', z.int().multipleOf(4), z.int().multipleOf(2), 'yes'],
  ['enum value added', z.enum(['a', 'b']), z.enum(['a', 'b', 'c']), 'yes'],
  ['enum value removed', z.enum(['a', 'b', 'c']), z.enum(['a', 'b']), 'no'],
  ['literal in a wider type', z.literal('x'), z.string(), 'yes'],
  ['string to literal', z.string(), z.literal('x'), 'no'],
  ['boolean to enum of both', z.boolean(), z.union([z.literal(true), z.literal(false)]), 'yes'],
  ['made nullable', z.string(), z.string().nullable(), 'yes'],
  ['nullable dropped', z.string().nullable(), z.string(), 'no'],
  ['union member added', z.union([z.string(), z.number()]), z.union([z.string(), z.number(), z.boolean()]), 'yes'],
  ['union member removed', z.union([z.string(), z.number()]), z.string(), 'no'],
  ['nullable object widened', z.object({ a: z.string() }).nullable(), z.object({ a: z.string(), b: z.string().optional() }).nullable(), 'yes'],
  ['array items narrowed', z.array(z.string()), z.array(z.string().max(3)), 'no'],
  ['array max lowered', z.array(z.string()).max(5), z.array(z.string()).max(4), 'no'],
  ['tuple widened', z.tuple([z.string(), z.int()]), z.tuple([z.string(), z.number()]), 'yes'],
  ['tuple to array', z.tuple([z.string(), z.string()]), z.array(z.string()), 'yes'],
  ['array to tuple', z.array(z.string()), z.tuple([z.string()]), 'no'],
  ['record value narrowed', z.record(z.string(), z.number()), z.record(z.string(), z.int()), 'no'],
  ['record value widened', z.record(z.string(), z.int()), z.record(z.string(), z.number()), 'yes'],
  ['discriminated union branch added', z.discriminatedUnion('k', [z.object({ k: z.literal('a') })]), z.discriminatedUnion('k', [z.object({ k: z.literal('a') }), z.object({ k: z.literal('b') })]), 'yes'],
  ['discriminated union branch removed', z.discriminatedUnion('k', [z.object({ k: z.literal('a') }), z.object({ k: z.literal('b') })]), z.discriminatedUnion('k', [z.object({ k: z.literal('a') })]), 'no'],
  ['anything to string', z.unknown(), z.string(), 'no'],
  ['string to anything', z.string(), z.unknown(), 'yes'],
  ['never to string', z.never(), z.string(), 'yes'],
  ['date kept', z.object({ at: z.date() }), z.object({ at: z.date() }), 'yes'],
  ['date to string', z.object({ at: z.date() }), z.object({ at: z.string() }), 'maybe'],
  ['description only', z.string().describe('old'), z.string().describe('new'), 'yes'],
]

describe('subsetProblems: does the new schema accept every value the old one does?', () => {
  it.each(cases)('%s', (_name, a, b, expected) => {
    expect(verdict(a, b)).toBe(expected)
  })

  it('compares recursive schemas without looping', () => {
    const Tree: z.ZodType = z.object({ name: z.string(), get children() { return z.array(Tree) } })
    const Wider: z.ZodType = z.object({ name: z.string(), note: z.string().optional(), get children() { return z.array(Wider) } })
    const Narrower: z.ZodType = z.object({ name: z.string().max(3), get children() { return z.array(Narrower) } })
    expect(verdict(Tree, Wider)).toBe('yes')
    expect(verdict(Tree, Narrower)).toBe('no')
  })

  it('follows $refs into definitions (zod .meta({ id }))', () => {
    const Id = z.string().meta({ id: 'Id' })
    const Short = z.string().max(8).meta({ id: 'Short' })
    expect(verdict(z.object({ a: Id, b: Id }), z.object({ a: z.string(), b: z.string() }))).toBe('yes')
    expect(verdict(z.object({ a: Id, b: Id }), z.object({ a: Short, b: Short }))).toBe('no')
  })

  it('says where and what, e.g. the field and the new bound', () => {
    const problems = subsetProblems(toJsonSchema(z.object({ room: z.string().max(64) })).schema, toJsonSchema(z.object({ room: z.string().max(32) })).schema)
    expect(problems).toEqual([{ verdict: 'no', path: '.room', message: 'length upper bound is now <= 32 (was <= 64)' }])
  })

  it('answers maybe, never yes, for keywords it does not compare', () => {
    expect(subsetProblems({ type: 'array' }, { type: 'array', contains: { type: 'string' } })[0]?.verdict).toBe('maybe')
    expect(subsetProblems({ type: 'object' }, { type: 'object', dependencies: { a: ['b'] } })[0]?.verdict).toBe('maybe')
    expect(subsetProblems({ type: 'string' }, { not: { const: 'x' } })[0]?.verdict).toBe('maybe')
    expect(subsetProblems({}, { $ref: '#/definitions/missing' })[0]?.verdict).toBe('maybe')
  })

  it('treats true and false subschemas as any and none', () => {
    expect(subsetProblems({ type: 'array', items: false }, { type: 'array', items: { type: 'string' } })).toEqual([])
    expect(subsetProblems({ type: 'array', items: true }, { type: 'array', items: false })[0]?.verdict).toBe('no')
  })
})
