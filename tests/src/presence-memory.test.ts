import { createMemoryBus, createMemoryHub } from '@rt/server'
import { wsTransport } from './harness.js'
import { describePresence } from './suites/presence.js'

describePresence(
  'the memory bus',
  async () => {
    const hub = createMemoryHub()
    return { buses: [0, 1, 2, 3].map(() => createMemoryBus({ hub })), cleanup: async () => {} }
  },
  wsTransport,
)
