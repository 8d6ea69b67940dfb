import { nowUs } from '../wire/clock.js'

/** Milliseconds on the monotonic clock every process of the run shares (see wire/clock.ts). */
export const nowMs = () => nowUs() / 1000

/** Counts events in 100 ms slots of the shared clock; cheap enough for 10 000 clients retrying. */
export class Buckets {
  private readonly slots = new Map<number, number>()

  add(atMs = nowMs()): void {
    const k = Math.floor(atMs / 100)
    this.slots.set(k, (this.slots.get(k) ?? 0) + 1)
  }

  entries(): [slot: number, count: number][] {
    return [...this.slots]
  }
}

/** Sums merged slot counts in [fromMs, toMs). */
export function countBetween(entries: [number, number][], fromMs: number, toMs: number): number {
  const from = Math.floor(fromMs / 100)
  const to = Math.floor(toMs / 100)
  let n = 0
  for (const [k, c] of entries) if (k >= from && k < to) n += c
  return n
}

/** Counts per whole second from `fromMs`, `seconds` of them. */
export function perSecond(entries: [number, number][], fromMs: number, seconds: number): number[] {
  return Array.from({ length: seconds }, (_, i) => countBetween(entries, fromMs + i * 1000, fromMs + (i + 1) * 1000))
}
