// Helpers shared by the JSON Schema comparator and the value checker: the draft-07 subset
// that zod emits (and a little more), read the same way by both.
import { UNCONVERTIBLE, UNREPRESENTABLE, type JsonSchema } from './json-schema.js'

/** Three-valued answer: decided yes, decided no, or cannot tell. */
export type Verdict = 'yes' | 'no' | 'maybe'

/** The JSON types; `integer` is a subset of `number`. */
export const TYPES = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'] as const

/** Keywords that restrict values; anything else (title, description, examples, x-…) is an annotation. */
const CONSTRAINTS = new Set([
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'format', 'items', 'additionalItems', 'prefixItems', 'maxItems', 'minItems',
  'uniqueItems', 'contains', 'minContains', 'maxContains', 'unevaluatedItems', 'maxProperties', 'minProperties',
  'required', 'properties', 'patternProperties', 'additionalProperties', 'dependencies', 'dependentRequired',
  'dependentSchemas', 'propertyNames', 'unevaluatedProperties', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf',
  'not', '$ref', UNREPRESENTABLE, UNCONVERTIBLE,
])

/** True for a plain object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A subschema as an object: `true` is `{}`, `false` is `{ not: {} }`. */
export function node(s: unknown): JsonSchema {
  if (s === false) return { not: {} }
  return isObject(s) ? s : {}
}

/** Follows `$ref`s (`#`, `#/definitions/…`, `#/$defs/…`) inside `root`; undefined when one cannot be followed. */
export function resolve(s: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  let cur = s
  for (let hops = 0; typeof cur.$ref === 'string'; hops++) {
    if (hops > 32 || !cur.$ref.startsWith('#')) return undefined
    let target: unknown = root
    for (const raw of cur.$ref.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
      target = isObject(target) ? target[key] : Array.isArray(target) ? target[Number(key)] : undefined
    }
    if (target === undefined) return undefined
    cur = node(target)
  }
  return cur
}

/** Structural equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return Number.isNaN(a) && Number.isNaN(b)
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a as object)
  const kb = Object.keys(b as object)
  if (ka.length !== kb.length) return false
  return ka.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** True when the schema restricts values at all. */
export const constrains = (s: JsonSchema): boolean => Object.keys(s).some((k) => CONSTRAINTS.has(k))

/** The constraint keywords of a schema, for a readable message. */
export const constraintKeys = (s: JsonSchema): string[] => Object.keys(s).filter((k) => CONSTRAINTS.has(k))

/** True for a schema that no value passes. */
export const isNever = (s: JsonSchema): boolean => (isObject(s.not) && !constrains(s.not)) || (Array.isArray(s.type) && s.type.length === 0)

/** The JSON types a schema allows by its `type` keyword (all of them without one). */
export function typesOf(s: JsonSchema): Set<string> {
  const t = s.type
  if (typeof t === 'string') return new Set(t === 'number' ? ['number', 'integer'] : [t])
  if (Array.isArray(t)) return new Set(t.flatMap((x) => (x === 'number' ? ['number', 'integer'] : [String(x)])))
  return new Set(TYPES)
}

/** The values of an `enum`/`const` schema, or undefined when it allows more than a list. */
export function enumerated(s: JsonSchema): unknown[] | undefined {
  if (Object.hasOwn(s, 'const')) return [s.const]
  return Array.isArray(s.enum) ? s.enum : undefined
}

/** The JSON type of a value (`integer` for whole numbers). */
export function typeOfValue(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

/** A finite number, or undefined. */
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** A value's JSON form, short, for messages. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 57)}…` : s
}

/** The combined verdict of several: no beats maybe beats yes. */
export function all(verdicts: Verdict[]): Verdict {
  return verdicts.includes('no') ? 'no' : verdicts.includes('maybe') ? 'maybe' : 'yes'
}

/** A pattern as a RegExp, or undefined when JavaScript cannot compile it. */
export function regex(p: unknown): RegExp | undefined {
  if (typeof p !== 'string') return undefined
  try {
    return new RegExp(p, 'u')
  } catch {
    try {
      return new RegExp(p)
    } catch {
      return undefined
    }
  }
}

const MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies'])

/** A schema without its annotations (description, examples, x-…): two schemas that differ only there mean the same. */
export function constraintsOnly(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(constraintsOnly)
  if (!isObject(s)) return s
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s)) {
    if (MAPS.has(k) && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, constraintsOnly(x)]))
    else if (k === 'enum' || k === 'const' || k === 'required') out[k] = v
    else if (CONSTRAINTS.has(k) || k === 'definitions' || k === '$defs') out[k] = constraintsOnly(v)
  }
  return out
}
