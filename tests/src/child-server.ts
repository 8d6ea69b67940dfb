// A server node in its own process, so tests can kill it without a clean close (SIGKILL).
// Usage: node --import tsx --conditions=@rt/source child-server.ts [port]
import { startServer, wsTransport } from './harness.js'

const port = Number(process.argv[2] ?? 0)
const s = await startServer(wsTransport, { port, limits: { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_000 } })
process.stdout.write(`${JSON.stringify({ port: s.port, nodeId: s.srv.nodeId })}\n`)
process.on('SIGTERM', () => void s.srv.close().then(() => process.exit(0)))
