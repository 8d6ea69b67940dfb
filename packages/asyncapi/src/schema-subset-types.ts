// a ⊆ b, keyword by keyword, for numbers, strings, arrays and objects.
import type { JsonSchema } from './json-schema.js'
import { check, type Ctx, type SubsetProblem } from './schema-subset.js'
import { deepEqual, isObject, node, num, regex, show } from './schema-util.js'
import { validateValue } from './schema-validate.js'

interface Bound {
  v: number
  excl: boolean
}

/** The tighter of an inclusive and an exclusive bound; whole-number bounds for integers. */
function bound(incl: unknown, excl: unknown, side: 'lo' | 'hi', integer: boolean): Bound | undefined {
  const i = num(incl)
  const x = num(excl)
  const bounds: Bound[] = []
  if (i !== undefined) bounds.push(integer ? { v: side === 'lo' ? Math.ceil(i) : Math.floor(i), excl: false } : { v: i, excl: false })
  if (x !== undefined) bounds.push(integer ? { v: side === 'lo' ? Math.floor(x) + 1 : Math.ceil(x) - 1, excl: false } : { v: x, excl: true })
  if (bounds.length === 0) return undefined
  const tighter = (p: Bound, q: Bound) => (p.v === q.v ? (p.excl ? p : q) : (side === 'lo') === p.v > q.v ? p : q)
  return bounds.reduce(tighter)
}

/** Whether a's bound is within b's on one side. */
function within(a: Bound | undefined, b: Bound | undefined, side: 'lo' | 'hi'): boolean {
  if (!b) return true
  if (!a) return false
  if (a.v !== b.v) return side === 'lo' ? a.v > b.v : a.v < b.v
  return a.excl || !b.excl
}

const fmt = (b: Bound | undefined, side: 'lo' | 'hi') => (b ? `${side === 'lo' ? (b.excl ? '>' : '>=') : b.excl ? '<' : '<='} ${b.v}` : 'no limit')

function range(a: JsonSchema, b: JsonSchema, keys: [string, string, string?, string?], what: string, path: string, integer: boolean): SubsetProblem[] {
  const [lo, hi, xlo, xhi] = keys
  const out: SubsetProblem[] = []
  for (const side of ['lo', 'hi'] as const) {
    const ba = bound(a[side === 'lo' ? lo : hi], xlo && xhi ? a[side === 'lo' ? xlo : xhi] : undefined, side, integer)
    const bb = bound(b[side === 'lo' ? lo : hi], xlo && xhi ? b[side === 'lo' ? xlo : xhi] : undefined, side, integer)
    if (!within(ba, bb, side)) out.push({ verdict: 'no', path, message: `${what} ${side === 'lo' ? 'lower' : 'upper'} bound is now ${fmt(bb, side)} (was ${fmt(ba, side)})` })
  }
  return out
}

/** a ⊆ b for numbers: bounds and multipleOf. */
export function compareNumbers(a: JsonSchema, b: JsonSchema, path: string, integer: boolean): SubsetProblem[] {
  const out = range(a, b, ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'], 'number', path, integer)
  const mb = num(b.multipleOf)
  const ma = num(a.multipleOf) ?? (integer ? 1 : undefined)
  if (mb !== undefined && mb > 0 && (ma === undefined || Math.abs(ma / mb - Math.round(ma / mb)) > 1e-9)) {
    out.push({ verdict: 'no', path, message: `numbers must now be a multiple of ${mb}` })
  }
  return out
}

/** a ⊆ b for strings: lengths, pattern and format. */
export function compareStrings(a: JsonSchema, b: JsonSchema, path: string): SubsetProblem[] {
  const out = range(a, b, ['minLength', 'maxLength'], 'length', path, true)
  const free = a.pattern === undefined && a.format === undefined
  for (const k of ['pattern', 'format'] as const) {
    if (b[k] === undefined || b[k] === a[k]) continue
    const now = k === 'pattern' ? `/${String(b.pattern)}/` : `format ${show(b.format)}`
    if (free) out.push({ verdict: 'no', path, message: `strings must now match ${now}` })
    else out.push({ verdict: 'maybe', path, message: `${k} changed to ${now} (${k === 'pattern' ? 'regular expressions' : 'formats'} are not compared)` })
  }
  return out
}

/** a ⊆ b for arrays: item counts, uniqueness, items and tuples. */
export function compareArrays(a: JsonSchema, b: JsonSchema, path: string, ctx: Ctx): SubsetProblem[] {
  const out = range(a, b, ['minItems', 'maxItems'], 'item count', path, true)
  if (b.uniqueItems === true && a.uniqueItems !== true) out.push({ verdict: 'no', path, message: 'items must now be unique' })
  const at = Array.isArray(a.items) ? a.items : undefined
  const bt = Array.isArray(b.items) ? b.items : undefined
  const item = (s: JsonSchema, t: unknown[] | undefined, i: number): unknown => (t ? (i < t.length ? t[i] : (s.additionalItems ?? true)) : (s.items ?? true))
  const n = Math.max(at?.length ?? 0, bt?.length ?? 0)
  const max = num(a.maxItems) ?? Infinity
  for (let i = 0; i < Math.min(n, max); i++) out.push(...check(item(a, at, i), item(b, bt, i), `${path}[${i}]`, ctx))
  if (max > n) out.push(...check(item(a, at, n), item(b, bt, n), `${path}[]`, ctx))
  return out
}

const key = (path: string, k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`)

/** a ⊆ b for objects: required fields, field schemas, extra fields, names and counts. */
export function compareObjects(a: JsonSchema, b: JsonSchema, path: string, ctx: Ctx): SubsetProblem[] {
  const out: SubsetProblem[] = []
  const ap = isObject(a.properties) ? a.properties : {}
  const bp = isObject(b.properties) ? b.properties : {}
  const areq = new Set(Array.isArray(a.required) ? a.required : [])
  const patterns = isObject(b.patternProperties) ? Object.keys(b.patternProperties) : []
  for (const r of Array.isArray(b.required) ? b.required : []) {
    if (typeof r === 'string' && !areq.has(r)) out.push({ verdict: 'no', path: key(path, r), message: Object.hasOwn(ap, r) ? 'optional field is now required' : 'new required field' })
  }
  for (const [k, s] of Object.entries(ap)) {
    if (Object.hasOwn(bp, k)) out.push(...check(s, bp[k], key(path, k), ctx))
    else if (patterns.some((p) => regex(p)?.test(k) ?? true)) out.push({ verdict: 'maybe', path: key(path, k), message: 'now matched by patternProperties, which are not compared' })
    else if (b.additionalProperties === false) out.push({ verdict: 'no', path: key(path, k), message: 'field no longer allowed' })
    else if (b.additionalProperties !== undefined) out.push(...check(s, b.additionalProperties, key(path, k), ctx))
  }
  // A value of a contract's type carries only the fields the type declares: an open `a` (no
  // additionalProperties) is compared by its declared fields alone, so adding an optional field is safe.
  if (a.additionalProperties !== undefined && a.additionalProperties !== false) {
    for (const [k, s] of Object.entries(bp)) if (!Object.hasOwn(ap, k)) out.push(...check(a.additionalProperties, s, key(path, k), ctx))
    if (b.additionalProperties !== undefined) {
      out.push(...(b.additionalProperties === false ? [{ verdict: 'no' as const, path, message: 'extra fields no longer allowed' }] : check(a.additionalProperties, b.additionalProperties, `${path}{}`, ctx)))
    }
  }
  if (b.patternProperties !== undefined && !deepEqual(a.patternProperties, b.patternProperties)) out.push({ verdict: 'maybe', path, message: 'patternProperties changed, which are not compared' })
  out.push(...propertyNames(a, b, Object.keys(ap), path, ctx))
  if ((b.minProperties !== undefined || b.maxProperties !== undefined) && !(deepEqual(a.minProperties, b.minProperties) && deepEqual(a.maxProperties, b.maxProperties))) {
    out.push(...range(a, b, ['minProperties', 'maxProperties'], 'field count', path, true).map((p) => ({ ...p, verdict: 'maybe' as const })))
  }
  return out
}

function propertyNames(a: JsonSchema, b: JsonSchema, declared: string[], path: string, ctx: Ctx): SubsetProblem[] {
  const bn = b.propertyNames
  if (bn === undefined || deepEqual(a.propertyNames, bn) || deepEqual(bn, { type: 'string' })) return []
  if (a.propertyNames !== undefined) return check(a.propertyNames, bn, `${path}{key}`, ctx)
  const out: SubsetProblem[] = []
  for (const k of declared) {
    const r = validateValue(k, node(bn), ctx.rb)
    if (r !== 'yes') out.push({ verdict: r, path: key(path, k), message: r === 'no' ? 'field name no longer allowed' : 'cannot tell whether this field name is still allowed' })
  }
  if (a.additionalProperties !== undefined && a.additionalProperties !== false) out.push({ verdict: 'maybe', path, message: 'propertyNames added to an open object' })
  return out
}
