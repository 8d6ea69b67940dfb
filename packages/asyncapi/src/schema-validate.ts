// Whether one JSON value passes a JSON Schema, for the comparator's enum and const cases.
// Three-valued: keywords it cannot check (format, contains, if, …) answer `maybe`, never a guess.
import { UNCONVERTIBLE, UNREPRESENTABLE, type JsonSchema } from './json-schema.js'
import { all, deepEqual, enumerated, isObject, node, num, regex, resolve, typeOfValue, typesOf, type Verdict } from './schema-util.js'

const UNCHECKED = ['format', 'contains', 'minContains', 'maxContains', 'if', 'dependencies', 'dependentRequired', 'dependentSchemas', 'unevaluatedItems', 'unevaluatedProperties', 'prefixItems', UNREPRESENTABLE, UNCONVERTIBLE]

/** Whether `value` passes `schema` (whose `$ref`s point into `root`). */
export function validateValue(value: unknown, schema: JsonSchema, root: JsonSchema, depth = 0): Verdict {
  const s = resolve(schema, root)
  if (!s || depth > 64) return 'maybe'
  const verdicts: Verdict[] = []
  const sub = (v: unknown, x: unknown) => validateValue(v, node(x), root, depth + 1)
  if (UNCHECKED.some((k) => Object.hasOwn(s, k))) verdicts.push('maybe')
  const t = typeOfValue(value)
  if (s.type !== undefined && !typesOf(s).has(t)) return 'no'
  const values = enumerated(s)
  if (values && !values.some((v) => deepEqual(v, value))) return 'no'
  if (Array.isArray(s.allOf)) verdicts.push(...s.allOf.map((x) => sub(value, x)))
  if (Array.isArray(s.anyOf)) verdicts.push(any(s.anyOf.map((x) => sub(value, x))))
  if (Array.isArray(s.oneOf)) verdicts.push(one(s.oneOf.map((x) => sub(value, x))))
  if (s.not !== undefined) verdicts.push(negate(sub(value, s.not)))
  if (typeof value === 'number') verdicts.push(numberOk(value, s))
  if (typeof value === 'string') verdicts.push(stringOk(value, s))
  if (Array.isArray(value)) verdicts.push(arrayOk(value, s, sub))
  if (isObject(value)) verdicts.push(objectOk(value, s, sub))
  return all(verdicts)
}

const any = (vs: Verdict[]): Verdict => (vs.includes('yes') ? 'yes' : vs.includes('maybe') ? 'maybe' : 'no')
const negate = (v: Verdict): Verdict => (v === 'yes' ? 'no' : v === 'no' ? 'yes' : 'maybe')

function one(vs: Verdict[]): Verdict {
  const yes = vs.filter((v) => v === 'yes').length
  if (yes > 1) return 'no'
  if (vs.includes('maybe')) return 'maybe'
  return yes === 1 ? 'yes' : 'no'
}

function numberOk(v: number, s: JsonSchema): Verdict {
  const min = num(s.minimum)
  const max = num(s.maximum)
  const xmin = num(s.exclusiveMinimum)
  const xmax = num(s.exclusiveMaximum)
  const step = num(s.multipleOf)
  if ((min !== undefined && v < min) || (max !== undefined && v > max)) return 'no'
  if ((xmin !== undefined && v <= xmin) || (xmax !== undefined && v >= xmax)) return 'no'
  if (step !== undefined && step > 0 && Math.abs(v / step - Math.round(v / step)) > 1e-9) return 'no'
  return 'yes'
}

function stringOk(v: string, s: JsonSchema): Verdict {
  const length = [...v].length
  if ((num(s.minLength) ?? 0) > length || (num(s.maxLength) ?? Infinity) < length) return 'no'
  if (s.pattern === undefined) return 'yes'
  const re = regex(s.pattern)
  return re ? (re.test(v) ? 'yes' : 'no') : 'maybe'
}

type Sub = (value: unknown, schema: unknown) => Verdict

function arrayOk(v: unknown[], s: JsonSchema, sub: Sub): Verdict {
  if ((num(s.minItems) ?? 0) > v.length || (num(s.maxItems) ?? Infinity) < v.length) return 'no'
  if (s.uniqueItems === true && v.some((x, i) => v.findIndex((y) => deepEqual(x, y)) !== i)) return 'no'
  const tuple = Array.isArray(s.items) ? s.items : undefined
  return all(v.map((x, i) => (tuple ? sub(x, i < tuple.length ? tuple[i] : (s.additionalItems ?? true)) : sub(x, s.items ?? true))))
}

function objectOk(v: Record<string, unknown>, s: JsonSchema, sub: Sub): Verdict {
  const props = isObject(s.properties) ? s.properties : {}
  const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : []
  const verdicts: Verdict[] = []
  if (Array.isArray(s.required) && s.required.some((k) => typeof k === 'string' && !Object.hasOwn(v, k))) return 'no'
  const count = Object.keys(v).length
  if ((num(s.minProperties) ?? 0) > count || (num(s.maxProperties) ?? Infinity) < count) return 'no'
  for (const [k, x] of Object.entries(v)) {
    if (s.propertyNames !== undefined) verdicts.push(sub(k, s.propertyNames))
    let matched = Object.hasOwn(props, k)
    if (matched) verdicts.push(sub(x, props[k]))
    for (const [p, ps] of patterns) {
      const re = regex(p)
      if (!re) verdicts.push('maybe')
      else if (re.test(k)) {
        matched = true
        verdicts.push(sub(x, ps))
      }
    }
    if (!matched && s.additionalProperties !== undefined) verdicts.push(sub(x, s.additionalProperties))
  }
  return all(verdicts)
}
