import { compressedTransports } from './compression/transports.js'
import { describeEvents } from './suites/events.js'
import { describeRpc } from './suites/rpc.js'

// Every frame compressed (threshold 0): the Node ws client under @rt/client negotiates it.
for (const { name, make } of compressedTransports) {
  describeRpc(`${name} with compression`, make({ threshold: 0 }))
  describeEvents(`${name} with compression`, make({ threshold: 0 }))
}
