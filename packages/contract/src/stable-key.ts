import { RtError } from './errors.js'

/**
 * Deepest value `stableKey` walks. A key that deep is over 1 KiB of brackets, more than a
 * topic key may be anyway, and the walk stays far from the stack's end whatever a client sends.
 */
export const MAX_KEY_DEPTH = 512

/**
 * A canonical string for a JSON-like value: object keys sorted, so `{a,b}` and `{b,a}` give
 * the same key. Used to name a topic stream by its params. Throws BAD_REQUEST for a value
 * nested deeper than `MAX_KEY_DEPTH`.
 */
export function stableKey(value: unknown): string {
  if (value === undefined) return ''
  return JSON.stringify(sortKeys(value, 0))
}

function sortKeys(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  if (depth >= MAX_KEY_DEPTH) throw new RtError('BAD_REQUEST', `Params nested deeper than ${MAX_KEY_DEPTH} levels`)
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, depth + 1))
  // No prototype: a `__proto__` key in client params stays a plain key.
  const out: Record<string, unknown> = Object.create(null)
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k], depth + 1)
  return out
}
