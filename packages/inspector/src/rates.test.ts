import { describe, expect, it } from 'vitest'
import type { NodeInfo, NodeStats } from '@rt/server'
import { RateSampler } from './rates.js'

const node = (id: string, at: number, totals?: NodeStats['totals'], started = 1): NodeInfo => ({
  id,
  started,
  lastHeartbeat: at,
  connections: 2,
  roles: {},
  stats: { at, topics: {}, ...(totals && { totals }) },
})

describe('RateSampler', () => {
  it('sums each node’s rate between its two latest reports', () => {
    const s = new RateSampler(1_000, 10)
    s.sample([node('a', 1_000, { calls: 10 }), node('b', 1_000, { calls: 0 })], 1_000)
    s.sample([node('a', 3_000, { calls: 30 }), node('b', 2_000, { calls: 5 })], 3_000)
    expect(s.series().rates.calls).toEqual([null, 15])
    expect(s.nodeRates('a')?.calls).toBe(10)
    // No new report from a: its last rate stands.
    s.sample([node('a', 3_000, { calls: 30 }), node('b', 3_000, { calls: 5 })], 4_000)
    expect(s.series().rates.calls.at(-1)).toBe(10)
    expect(s.series().connections).toEqual([4, 4, 4])
  })

  it('starts over for a restarted node, never goes negative, and ignores nodes without counters', () => {
    const s = new RateSampler(1_000, 3)
    s.sample([node('a', 1_000, { delivered: 100 })], 1)
    s.sample([node('a', 2_000, { delivered: 5 }, 2)], 2) // restarted: a new baseline
    s.sample([node('a', 3_000, { delivered: 4 }, 2)], 3) // a counter going back counts as 0
    s.sample([node('a', 4_000, { delivered: 8 }, 2), node('old', 4_000)], 4)
    expect(s.series().t).toEqual([2, 3, 4]) // the window keeps 3 points
    expect(s.series().rates.delivered).toEqual([null, 0, 4])
    expect(s.nodeRates('old')).toBeUndefined()
  })
})
