import type { ServerTotals } from '../types.js'

/** Names of the cumulative counters a node reports (`ServerStats.totals`). */
export const TOTAL_NAMES = ['framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'calls', 'callErrors', 'published', 'delivered'] as const satisfies readonly (keyof ServerTotals)[]

/** One of `TOTAL_NAMES`. */
export type TotalName = (typeof TOTAL_NAMES)[number]

/** What a node reports of itself in its heartbeats: figures the directory does not replicate. */
export interface NodeStats {
  /** When the node measured these (its own clock, ms since epoch). */
  at: number
  /** Its client subscriptions by topic name (one per connection per stream). */
  topics: Record<string, number>
  /** Its cumulative counters since it started; absent from a node that keeps none. */
  totals?: Partial<Record<TotalName, number>>
}

// Heartbeats from other versions may carry anything: keep what is well formed, bounded.
const MAX_TOPICS = 1_000
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0

/** A peer's heartbeat `stats`, checked; undefined if absent or malformed. */
export function readStats(raw: unknown): NodeStats | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const { at, topics, totals } = raw as { at?: unknown; topics?: unknown; totals?: unknown }
  if (!isCount(at) || typeof topics !== 'object' || topics === null) return undefined
  const out: NodeStats = { at, topics: {} }
  let n = 0
  for (const [name, count] of Object.entries(topics)) {
    // `__proto__` would set the prototype, not a key.
    if (!isCount(count) || name === '__proto__') continue
    if (++n > MAX_TOPICS) break
    out.topics[name] = count
  }
  if (typeof totals === 'object' && totals !== null) {
    const t: Partial<Record<TotalName, number>> = {}
    for (const name of TOTAL_NAMES) {
      const v = (totals as Record<string, unknown>)[name]
      if (isCount(v)) t[name] = v
    }
    out.totals = t
  }
  return out
}
