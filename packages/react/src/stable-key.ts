/** A string naming a params value regardless of key order: the same stream, the same key. */
export function stableKey(value: unknown): string {
  if (value === undefined) return ''
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  )
}
