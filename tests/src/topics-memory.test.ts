import { createMemoryBus, createMemoryHub } from '@rt/server'
import { expect } from 'vitest'
import { wsTransport } from './harness.js'
import { describeTopics } from './suites/topics.js'

describeTopics(
  'the memory bus',
  async () => {
    const hub = createMemoryHub()
    return {
      buses: [0, 1, 2, 3].map(() => createMemoryBus({ hub })),
      async cleanup() {
        expect(hub.subscriptionCount).toBe(0)
      },
    }
  },
  wsTransport,
)
