import { createMemoryBus, createMemoryHub } from '@rt/server'
import { describeBus } from './suites/bus.js'

describeBus('memory', async () => {
  const hub = createMemoryHub()
  const buses = [0, 1, 2].map(() => createMemoryBus({ hub }))
  return { buses, cleanup: async () => void (await Promise.all(buses.map((b) => b.close()))) }
})
