// Is every value schema A accepts also accepted by schema B? For the JSON Schema (draft-07) that
// zod emits. Sound where it says yes or no; whatever it cannot decide is reported as `maybe`.
import { UNCONVERTIBLE, UNREPRESENTABLE, type JsonSchema } from './json-schema.js'
import { compareArrays, compareNumbers, compareObjects, compareStrings } from './schema-subset-types.js'
import { constrains, constraintKeys, deepEqual, enumerated, isNever, node, resolve, show, typesOf } from './schema-util.js'
import { validateValue } from './schema-validate.js'

/** One reason why A ⊆ B does not hold (`no`) or could not be shown (`maybe`). */
export interface SubsetProblem {
  verdict: 'no' | 'maybe'
  /** Where in the value, e.g. `.room` or `.items[]`; empty for the value itself. */
  path: string
  message: string
}

/** What one comparison needs: both roots (for `$ref`s) and the pairs already assumed to hold (recursive schemas). */
export interface Ctx {
  ra: JsonSchema
  rb: JsonSchema
  assumed: Map<object, Set<object>>
}

/** The problems that keep `b` from accepting every value `a` accepts; empty when it does. */
export function subsetProblems(a: JsonSchema, b: JsonSchema): SubsetProblem[] {
  return check(a, b, '', { ra: a, rb: b, assumed: new Map() })
}

const COMBINERS = ['anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else'] as const

function without(s: JsonSchema, ...keys: string[]): JsonSchema {
  const out = { ...s }
  for (const k of keys) delete out[k]
  return out
}

/** a ⊆ b at `path`, for the keyword comparisons that recurse. */
export function check(a0: unknown, b0: unknown, path: string, ctx: Ctx): SubsetProblem[] {
  const a = resolve(node(a0), ctx.ra)
  const b = resolve(node(b0), ctx.rb)
  if (!a || !b) return [{ verdict: 'maybe', path, message: 'a $ref that cannot be followed' }]
  // A recursive schema meets itself: assume the pair holds while it is being checked (coinduction).
  const open = ctx.assumed.get(a) ?? new Set<object>()
  if (open.has(b)) return []
  if (ctx.assumed.size > 256) return [{ verdict: 'maybe', path, message: 'schemas nested too deep to compare' }]
  open.add(b)
  ctx.assumed.set(a, open)
  try {
    return compare(a, b, path, ctx)
  } finally {
    open.delete(b)
    if (open.size === 0) ctx.assumed.delete(a)
  }
}

function compare(a: JsonSchema, b: JsonSchema, path: string, ctx: Ctx): SubsetProblem[] {
  if (deepEqual(a, b) || isNever(a) || !constrains(b)) return []
  for (const mark of [UNREPRESENTABLE, UNCONVERTIBLE]) {
    if (a[mark] !== undefined || b[mark] !== undefined) {
      return [{ verdict: 'maybe', path, message: `cannot compare: ${String(a[mark] ?? b[mark])} has no JSON Schema form` }]
    }
  }
  // Unions on the left: every branch must fit.
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(a[k])) return a[k].flatMap((x) => check({ ...without(a, k), ...node(resolve(node(x), ctx.ra)) }, b, path, ctx))
  }
  // Intersections on the left: one member that fits is enough (each holds at least every value of a).
  if (Array.isArray(a.allOf)) {
    const rest = without(a, 'allOf')
    const tries = [rest, ...a.allOf.map((x) => ({ ...rest, ...node(resolve(node(x), ctx.ra)) }))]
    for (const t of tries) if (check(t, b, path, ctx).length === 0) return []
    return [{ verdict: 'maybe', path, message: 'an intersection (allOf) that is hard to compare' }]
  }
  const values = enumerated(a)
  if (values) return enumProblems(values, b, path, ctx)
  // `not`, `if`… on the left only narrow it: dropping them keeps the comparison sound.
  const left = without(a, 'not', 'if', 'then', 'else')
  const problems: SubsetProblem[] = []
  if (Array.isArray(b.allOf)) for (const x of b.allOf) problems.push(...check(left, x, path, ctx))
  for (const k of ['anyOf', 'oneOf'] as const) if (Array.isArray(b[k])) problems.push(...unionProblems(left, b[k], path, ctx))
  if (b.not !== undefined) {
    problems.push(isNever(b) ? { verdict: 'no', path, message: 'no value is accepted any more' } : { verdict: 'maybe', path, message: 'a `not` schema that is hard to compare' })
  }
  if (b.if !== undefined) problems.push({ verdict: 'maybe', path, message: 'an if/then/else schema that is hard to compare' })
  return [...problems, ...direct(left, without(b, ...COMBINERS), path, ctx)]
}

/** a (no combiners) ⊆ b (its combiners handled by the caller). */
function direct(a: JsonSchema, b: JsonSchema, path: string, ctx: Ctx): SubsetProblem[] {
  if (!constrains(b)) return []
  const bValues = enumerated(b)
  const ta = typesOf(a)
  if (bValues) {
    const finite = [...ta].every((t) => t === 'null' || t === 'boolean')
    if (finite) return enumProblems([...(ta.has('null') ? [null] : []), ...(ta.has('boolean') ? [true, false] : [])], b, path, ctx)
    return [{ verdict: 'no', path, message: `only ${bValues.map(show).join(', ')} accepted now` }]
  }
  const tb = typesOf(b)
  const lost = [...ta].filter((t) => !tb.has(t))
  if (lost.length > 0) return [{ verdict: 'no', path, message: `${lost.join(', ')} no longer accepted${b.type === undefined ? '' : ` (now ${[b.type].flat().join(' | ')})`}` }]
  const problems: SubsetProblem[] = []
  if (ta.has('number') || ta.has('integer')) problems.push(...compareNumbers(a, b, path, !ta.has('number')))
  if (ta.has('string')) problems.push(...compareStrings(a, b, path))
  if (ta.has('array')) problems.push(...compareArrays(a, b, path, ctx))
  if (ta.has('object')) problems.push(...compareObjects(a, b, path, ctx))
  const handled = new Set(['type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'format',
    'items', 'additionalItems', 'maxItems', 'minItems', 'uniqueItems', 'required', 'properties', 'additionalProperties', 'propertyNames', 'minProperties', 'maxProperties'])
  const other = constraintKeys(b).filter((k) => !handled.has(k) && !deepEqual(a[k], b[k]))
  if (other.length > 0) problems.push({ verdict: 'maybe', path, message: `${other.join(', ')} that cannot be compared` })
  return problems
}

function enumProblems(values: unknown[], b: JsonSchema, path: string, ctx: Ctx): SubsetProblem[] {
  const out: SubsetProblem[] = []
  for (const v of values) {
    const r = validateValue(v, b, ctx.rb)
    if (r === 'no') out.push({ verdict: 'no', path, message: `${show(v)} no longer accepted` })
    else if (r === 'maybe') out.push({ verdict: 'maybe', path, message: `cannot tell whether ${show(v)} is still accepted` })
  }
  return out
}

/** a ⊆ anyOf(branches): each JSON type of a must fit one branch whole. */
function unionProblems(a: JsonSchema, branches: unknown[], path: string, ctx: Ctx): SubsetProblem[] {
  const types = [...typesOf(a)].filter((t) => !(t === 'integer' && typesOf(a).has('number')))
  const parts = types.length > 1 ? types.map((t) => ({ ...a, type: t })) : [a]
  const out: SubsetProblem[] = []
  for (const part of parts) {
    const t = [...typesOf(part)]
    if (t.every((x) => x === 'null' || x === 'boolean')) {
      // Few enough values to try each against the whole union (true | false fits two branches).
      out.push(...enumProblems([...(t.includes('null') ? [null] : []), ...(t.includes('boolean') ? [true, false] : [])], { anyOf: branches }, path, ctx))
      continue
    }
    const tried = branches.map((x) => check(part, x, path, ctx))
    if (tried.some((p) => p.length === 0)) continue
    const best = tried.reduce((x, y) => (y.length < x.length ? y : x))
    const definite = tried.every((p) => p.some((q) => q.verdict === 'no'))
    out.push(...best.map((p) => ({ ...p, verdict: definite ? p.verdict : 'maybe' as const })))
  }
  return out
}
