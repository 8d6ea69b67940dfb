/** Latencies in log-spaced buckets (2 % wide): mergeable across processes, ~1 000 numbers. */
const GROWTH = 1.02
const LOG = Math.log(GROWTH)
const BUCKETS = 1_100 // up to ~2.8e9 µs

export interface HistogramData {
  counts: number[]
  n: number
  sum: number
  max: number
}

export class Histogram {
  counts = new Uint32Array(BUCKETS)
  n = 0
  sum = 0
  max = 0

  record(us: number): void {
    const v = us < 1 ? 1 : us
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v) / LOG))
    this.counts[i]! += 1
    this.n++
    this.sum += v
    if (v > this.max) this.max = v
  }

  toJSON(): HistogramData {
    return { counts: Array.from(this.counts), n: this.n, sum: this.sum, max: this.max }
  }
}

export function mergeHistograms(parts: HistogramData[]): HistogramData {
  const counts = new Array<number>(BUCKETS).fill(0)
  let n = 0
  let sum = 0
  let max = 0
  for (const p of parts) {
    for (let i = 0; i < p.counts.length; i++) counts[i]! += p.counts[i]!
    n += p.n
    sum += p.sum
    max = Math.max(max, p.max)
  }
  return { counts, n, sum, max }
}

/** The q-quantile (0..1) in µs: the geometric middle of its bucket, capped at the maximum seen. */
export function quantile(h: HistogramData, q: number): number {
  if (h.n === 0) return Number.NaN
  const target = Math.ceil(q * h.n)
  let seen = 0
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!
    if (seen >= target) return Math.min(h.max, GROWTH ** (i + 0.5))
  }
  return h.max
}
