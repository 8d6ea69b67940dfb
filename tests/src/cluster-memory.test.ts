import { createMemoryBus, createMemoryHub } from '@rt/server'
import { expect } from 'vitest'
import { wsTransport } from './harness.js'
import { describeCluster } from './suites/cluster.js'

// Three nodes in one process on one memory hub: the embedded default, as a cluster.
describeCluster(
  'the memory bus',
  async () => {
    const hub = createMemoryHub()
    return {
      buses: [0, 1, 2, 3].map(() => createMemoryBus({ hub })),
      async cleanup() {
        // Every subscription of every node was released.
        expect(hub.subscriptionCount).toBe(0)
      },
    }
  },
  wsTransport,
)
