import { memoryBuses } from './bus-sets.js'
import { wsTransport } from './harness.js'
import { describeTopics } from './suites/topics.js'

// Several nodes in one process on one memory hub: the embedded default, as a cluster.
describeTopics('the memory bus', memoryBuses, wsTransport)
