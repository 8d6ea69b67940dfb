// A history node in its own process, on a NATS bus with its JetStream store, so a test can SIGKILL it.
// Env: RT_NATS_URL, RT_NATS_PREFIX. Prints {"port","nodeId"} once listening.
import { createNatsBus } from '@rt/bus-nats'
import { startHistoryNode } from './node.js'

const bus = createNatsBus({ servers: process.env.RT_NATS_URL!, prefix: process.env.RT_NATS_PREFIX!, reconnectTimeWaitMs: 100 })
const node = await startHistoryNode({ bus })
process.stdout.write(`${JSON.stringify({ port: node.port, nodeId: node.srv.nodeId })}\n`)
process.on('SIGTERM', () => void node.srv.close().then(() => process.exit(0)))
