import { memoryBuses } from './bus-sets.js'
import { wsTransport } from './harness.js'
import { describeCluster } from './suites/cluster.js'

// Several nodes in one process on one memory hub: the embedded default, as a cluster.
describeCluster('the memory bus', memoryBuses, wsTransport)
