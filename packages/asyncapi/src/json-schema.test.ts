import type { Schema } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { UNCONVERTIBLE, UNREPRESENTABLE, acceptsUndefined, toJsonSchema } from './json-schema.js'

/** A Standard Schema validator with no JSON Schema support, like many besides zod. */
const foreign: Schema<string> = {
  '~standard': { version: 1, vendor: 'acme', validate: (v) => (typeof v === 'string' ? { value: v } : { issues: [{ message: 'not a string' }] }) },
}

describe('toJsonSchema', () => {
  it('emits draft-07 without $schema: the AsyncAPI 3.0 default schema format', () => {
    const { schema, notes } = toJsonSchema(z.object({ room: z.string().min(1).max(64), n: z.int().optional() }))
    expect(schema).toEqual({
      type: 'object',
      properties: {
        room: { type: 'string', minLength: 1, maxLength: 64 },
        n: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
      },
      required: ['room'],
    })
    expect(notes).toEqual([])
  })

  it('keeps .meta() descriptions and examples', () => {
    const { schema } = toJsonSchema(z.object({ symbol: z.string().meta({ description: 'Ticker symbol', examples: ['AAPL'] }) }).meta({ examples: [{ symbol: 'AAPL' }] }))
    expect(schema.examples).toEqual([{ symbol: 'AAPL' }])
    expect(schema.properties).toEqual({ symbol: { type: 'string', description: 'Ticker symbol', examples: ['AAPL'] } })
  })

  it('converts the input side: what the receiver parses, before transforms and defaults', () => {
    expect(toJsonSchema(z.string().transform((s) => s.length)).schema).toEqual({ type: 'string' })
    expect(toJsonSchema(z.object({ a: z.string().default('x') })).schema.required).toBeUndefined()
  })

  it('marks what JSON Schema cannot express, with a note, instead of throwing', () => {
    const { schema, notes } = toJsonSchema(z.object({ at: z.date(), n: z.bigint(), f: z.transform((x) => x), m: z.map(z.string(), z.number()) }))
    const props = schema.properties as Record<string, Record<string, unknown>>
    expect(props.at?.[UNREPRESENTABLE]).toBe('date')
    expect(props.n?.[UNREPRESENTABLE]).toBe('bigint')
    expect(props.f?.[UNREPRESENTABLE]).toBe('transform')
    expect(props.m?.[UNREPRESENTABLE]).toBe('map')
    expect(notes).toHaveLength(4)
    expect(notes[0]).toMatch(/^\/properties\/at: Date cannot be represented/)
  })

  it('gives an annotated {} for a validator without JSON Schema support', () => {
    const { schema, notes } = toJsonSchema(foreign)
    expect(schema[UNCONVERTIBLE]).toBe('acme')
    expect(String(schema.description)).toMatch(/acme schema without a JSON Schema form/)
    expect(notes).toHaveLength(1)
  })

  it('gives an annotated {} when a converter throws', () => {
    const throwing = { '~standard': { ...foreign['~standard'], jsonSchema: { input: () => { throw new Error('no target draft-07') }, output: () => ({}) } } }
    const { schema } = toJsonSchema(throwing as Schema)
    expect(String(schema.description)).toMatch(/could not be converted \(no target draft-07\)/)
  })

  it('keeps cycles as $refs to the schema root', () => {
    const Tree: z.ZodType = z.object({ name: z.string(), get children() { return z.array(Tree) } })
    expect(toJsonSchema(Tree).schema.properties).toEqual({ name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } })
  })
})

describe('acceptsUndefined', () => {
  it('is true only for schemas that pass undefined', () => {
    expect(acceptsUndefined(z.string().optional())).toBe(true)
    expect(acceptsUndefined(z.undefined())).toBe(true)
    expect(acceptsUndefined(z.object({}))).toBe(false)
    expect(acceptsUndefined(foreign)).toBe(false)
  })
})
