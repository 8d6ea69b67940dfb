/** Reconnection policy. */
export interface ReconnectOptions {
  /** First retry's upper bound. @default 250 */
  minDelayMs?: number
  /** Cap on the delay. @default 10_000 */
  maxDelayMs?: number
  /** Give up (state `closed`) when this many reconnection attempts in a row have failed. @default Infinity */
  maxAttempts?: number
}

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, options: ReconnectOptions, random: () => number = Math.random): number {
  const base = options.minDelayMs ?? 250
  const cap = options.maxDelayMs ?? 10_000
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}
