import type { Schema } from '@rt/contract'

/** A JSON Schema (draft-07) as a plain object; `true`/`false` may appear below the top level. */
export type JsonSchema = { [keyword: string]: unknown }

/** What `toJsonSchema` made of a schema: the JSON Schema and why parts of it accept any value. */
export interface JsonSchemaResult {
  schema: JsonSchema
  /** One line per part that JSON Schema cannot express (a date, a transform, a foreign validator). */
  notes: string[]
}

/** AsyncAPI 3.0's default schema format is a superset of JSON Schema draft-07. */
const TARGET = 'draft-07'

/** Marks a part of a schema that JSON Schema cannot express: any value passes there in the document. */
export const UNREPRESENTABLE = 'x-rt-unrepresentable'
/** Marks a schema of a validator with no JSON Schema form at all (no Standard JSON Schema support). */
export const UNCONVERTIBLE = 'x-rt-unconvertible'

interface JsonSchemaConverter {
  input(options: { target: string; libraryOptions?: Record<string, unknown> }): Record<string, unknown>
}

const cache = new WeakMap<object, JsonSchemaResult>()

/**
 * The JSON Schema (draft-07) of the values a schema accepts, through the Standard JSON Schema
 * interface (zod 4 and others); never throws.
 */
export function toJsonSchema(schema: Schema): JsonSchemaResult {
  const hit = cache.get(schema)
  if (hit) return hit
  const result = convert(schema)
  cache.set(schema, result)
  return result
}

function convert(schema: Schema): JsonSchemaResult {
  const std = schema['~standard'] as Schema['~standard'] & { jsonSchema?: JsonSchemaConverter }
  const vendor = typeof std.vendor === 'string' ? std.vendor : 'unknown'
  const notes: string[] = []
  if (typeof std.jsonSchema?.input !== 'function') return unconvertible(vendor, `${vendor} schema without a JSON Schema form`)
  try {
    // The input side: what crosses the wire is what the receiving side's schema parses.
    const raw = std.jsonSchema.input({
      target: TARGET,
      // zod's options; other vendors ignore what they do not know.
      libraryOptions: { unrepresentable: (ctx: UnrepresentableContext) => unrepresentable(ctx, notes), cycles: 'ref', reused: 'inline' },
    })
    const { $schema: _, ...json } = raw
    return { schema: json, notes }
  } catch (e) {
    return unconvertible(vendor, `${vendor} schema that could not be converted (${e instanceof Error ? e.message : String(e)})`)
  }
}

interface UnrepresentableContext {
  zodSchema?: { _zod?: { def?: { type?: unknown } } }
  path: (string | number)[]
  message: string
}

function unrepresentable(ctx: UnrepresentableContext, notes: string[]): JsonSchema {
  const kind = String(ctx.zodSchema?._zod?.def?.type ?? 'unknown')
  const at = pointer(ctx.path)
  notes.push(`${at || '(root)'}: ${ctx.message}`)
  return { [UNREPRESENTABLE]: kind, description: `${ctx.message}: any value passes this document here, the server's schema still applies.` }
}

function unconvertible(vendor: string, what: string): JsonSchemaResult {
  const note = `a ${what}: any value passes this document here, the server's schema still applies`
  return { schema: { [UNCONVERTIBLE]: vendor, description: `A ${what}: any value passes this document here, the server's schema still applies.` }, notes: [note] }
}

/** A JSON-Schema-keyword path as a JSON pointer fragment, e.g. `/properties/at`. */
function pointer(path: (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

/** True when the schema accepts `undefined`, i.e. the frame may leave the field out. */
export function acceptsUndefined(schema: Schema): boolean {
  try {
    const r = schema['~standard'].validate(undefined)
    if (r instanceof Promise) {
      r.catch(() => {})
      return false
    }
    return r.issues === undefined
  } catch {
    return false
  }
}
