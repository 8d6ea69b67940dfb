import type { FanoutResult } from './results.js'

/** The middle value (the upper one of an even count); 0 for none. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** The run in the middle by CPU per delivery: repeated fan-outs report that one. */
export const medianRun = (runs: readonly FanoutResult[]): FanoutResult => [...runs].sort((a, b) => a.cpuUsPerDelivery - b.cpuUsPerDelivery)[Math.floor(runs.length / 2)]!
