/**
 * Whether `value` nests at most `max` levels of arrays and objects (a scalar is 0 levels).
 * Checked on client input before any schema sees it: a recursive schema walks input with
 * recursion, and one that overflows the stack on a deep value keeps memory behind (zod does).
 * The recursion here stops at `max`, so it cannot overflow.
 */
export function depthWithin(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return true
  if (max <= 0) return false
  if (Array.isArray(value)) {
    for (const v of value) if (!depthWithin(v, max - 1)) return false
    return true
  }
  // Decoded input has plain objects only: for-in sees their own keys.
  for (const k in value) if (!depthWithin((value as Record<string, unknown>)[k], max - 1)) return false
  return true
}
