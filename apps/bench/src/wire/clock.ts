/**
 * Microseconds on the system-wide monotonic clock (libuv's hrtime is CLOCK_MONOTONIC), so a
 * timestamp taken in the server process can be compared with one taken in a client process.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
