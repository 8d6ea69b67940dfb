import type { NodeInfo, TotalName } from '@rt/server'

/** The rates charted: per second, summed over the cluster. */
export const RATE_NAMES = ['framesIn', 'framesOut', 'calls', 'callErrors', 'published', 'delivered'] as const satisfies readonly TotalName[]
export type RateName = (typeof RATE_NAMES)[number]
export type Rates = Record<RateName, number>

/** The last minutes, one point per sample: time, connections, and each rate (null when no node reports counters). */
export interface Series {
  intervalMs: number
  t: number[]
  connections: number[]
  rates: Record<RateName, (number | null)[]>
}

interface Last {
  started: number
  at: number
  totals: Partial<Record<TotalName, number>>
  rates: Rates | undefined
}

/**
 * Turns the cumulative counters every node reports in its heartbeat into rates: each node's
 * rate between its two latest reports, summed. A node that restarted starts over; one that
 * reports nothing (an older version) counts as nothing.
 */
export class RateSampler {
  private readonly last = new Map<string, Last>()
  private readonly points: { t: number; connections: number; rates: Rates | null }[] = []

  constructor(
    readonly intervalMs: number,
    private readonly size: number,
  ) {}

  /** Adds one point from the nodes as they are now. */
  sample(nodes: readonly NodeInfo[], now = Date.now()): void {
    const live = new Set<string>()
    let sum: Rates | null = null
    let connections = 0
    for (const n of nodes) {
      live.add(n.id)
      connections += n.connections
      const rates = this.advance(n)
      if (!rates) continue
      sum ??= zero()
      for (const k of RATE_NAMES) sum[k] += rates[k]
    }
    for (const id of [...this.last.keys()]) if (!live.has(id)) this.last.delete(id)
    this.points.push({ t: now, connections, rates: sum })
    if (this.points.length > this.size) this.points.shift()
  }

  /** The latest rates of one node, if it reports counters. */
  nodeRates(id: string): Rates | undefined {
    return this.last.get(id)?.rates
  }

  series(): Series {
    const rates = Object.fromEntries(RATE_NAMES.map((k) => [k, this.points.map((p) => (p.rates ? p.rates[k] : null))])) as Series['rates']
    return { intervalMs: this.intervalMs, t: this.points.map((p) => p.t), connections: this.points.map((p) => p.connections), rates }
  }

  private advance(n: NodeInfo): Rates | undefined {
    const totals = n.stats?.totals
    if (!n.stats || !totals) return undefined
    const prev = this.last.get(n.id)
    const at = n.stats.at
    if (prev && prev.started === n.started && at === prev.at) return prev.rates // no new report since
    let rates: Rates | undefined
    if (prev && prev.started === n.started && at > prev.at) {
      rates = zero()
      const seconds = (at - prev.at) / 1000
      for (const k of RATE_NAMES) rates[k] = Math.max(0, ((totals[k] ?? 0) - (prev.totals[k] ?? 0)) / seconds)
    }
    this.last.set(n.id, { started: n.started, at, totals, rates })
    return rates
  }
}

const zero = (): Rates => ({ framesIn: 0, framesOut: 0, calls: 0, callErrors: 0, published: 0, delivered: 0 })
