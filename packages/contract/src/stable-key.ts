/**
 * A canonical string for a JSON-like value: object keys sorted, so `{a,b}` and `{b,a}` give
 * the same key. Used to name a topic stream by its params.
 */
export function stableKey(value: unknown): string {
  if (value === undefined) return ''
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    // No prototype: a `__proto__` key in client params stays a plain key.
    const out: Record<string, unknown> = Object.create(null)
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k])
    return out
  }
  return value
}
