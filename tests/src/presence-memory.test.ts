import { memoryBuses } from './bus-sets.js'
import { wsTransport } from './harness.js'
import { describePresence } from './suites/presence.js'

// Several nodes in one process on one memory hub: the embedded default, as a cluster.
describePresence('the memory bus', memoryBuses, wsTransport)
