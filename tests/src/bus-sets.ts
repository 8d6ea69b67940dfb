import { expect } from 'vitest'
import { createMemoryBus, createMemoryHub } from '@rt/server'
import type { BusSet } from './suites/cluster.js'

/** Four nodes' buses on one memory hub; cleanup checks every node released every subscription. */
export const memoryBuses: BusSet = async () => {
  const hub = createMemoryHub()
  return {
    buses: [0, 1, 2, 3].map(() => createMemoryBus({ hub })),
    async cleanup() {
      expect(hub.subscriptionCount).toBe(0)
    },
  }
}
