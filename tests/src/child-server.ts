// A server node in its own process, so tests can kill it without a clean close (SIGKILL).
// Usage: node --import tsx --conditions=@rt/source child-server.ts [port]
// With RT_NATS_URL (and RT_NATS_PREFIX) it joins a NATS cluster; otherwise it runs alone.
// With RT_CODECS=msgpack it serves MessagePack clients beside JSON ones.
import { createNatsBus } from '@rt/bus-nats'
import { msgpackEncoder } from '@rt/codec-msgpack'
import { jsonEncoder } from '@rt/contract'
import { startServer, wsTransport } from './harness.js'
import { uwsTransport } from './uws-transport.js'

const port = Number(process.argv[2] ?? 0)
const nats = process.env.RT_NATS_URL
const s = await startServer(process.env.RT_TRANSPORT === 'uws' ? uwsTransport : wsTransport, {
  port,
  limits: { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_000 },
  cluster: { heartbeatMs: 100, deadAfterMs: 500 },
  ...(nats && { bus: createNatsBus({ servers: nats, prefix: process.env.RT_NATS_PREFIX ?? 'rt', reconnectTimeWaitMs: 100 }) }),
  ...(process.env.RT_CODECS === 'msgpack' && { encoders: [jsonEncoder, msgpackEncoder] }),
  onConnection: (conn, ctx) => {
    s.srv.room(`user:${ctx.user.id}`).add(conn)
  },
})
process.stdout.write(`${JSON.stringify({ port: s.port, nodeId: s.srv.nodeId })}\n`)
process.on('SIGTERM', () => void s.srv.close().then(() => process.exit(0)))
