// One demo node: the page over HTTP and the chat over WebSocket. Started by main.ts, one process
// per node; its settings come from the environment (see main.ts).
import { serveMetrics, stopTelemetry } from './telemetry.js' // first: the SDK is registered before the server exists
import { randomBytes } from 'node:crypto'
import { createNatsBus } from '@rt/bus-nats'
import { basicAuth, createInspector, type Inspector } from '@rt/inspector'
import type { Bus } from '@rt/server'
import { createChatServer } from './chat-server.js'
import { parseTransport, createTransport, WS_PATH } from './transport.js'
import { createWebServer, type PageConfig } from './web-server.js'

const env = process.env
const kind = parseTransport(env.RT_TRANSPORT)
const host = env.HOST ?? '127.0.0.1'
const nodeId = env.NODE_ID ?? randomBytes(3).toString('hex')
const agentToken = env.AGENT_TOKEN ?? ''
if (!agentToken) throw new Error('AGENT_TOKEN is not set')
const inspectPassword = env.INSPECT_PASSWORD ?? ''
if (!inspectPassword) throw new Error('INSPECT_PASSWORD is not set')
const nodes = JSON.parse(env.RT_NODES ?? '[]') as PageConfig['nodes']
const self = Number(env.RT_SELF ?? 0)

// Its own subject prefix: other @rt apps on the same NATS form clusters of their own.
const bus: Bus | undefined = env.NATS_URL ? createNatsBus({ servers: env.NATS_URL, prefix: 'rt-demo', name: `rt-demo-${nodeId}` }) : undefined

let chat: ReturnType<typeof createChatServer> | undefined
let inspector: Inspector | undefined
const http = createWebServer(
  () => ({ nodes: nodes.length > 0 ? nodes : [{ port: 0, path: WS_PATH }], self, transport: kind }),
  () => ({ node: nodeId, connections: chat?.srv.connections.size ?? 0, cluster: chat?.srv.nodes().map((n) => n.id) ?? [] }),
  {
    '/metrics': serveMetrics,
    // Any node shows the whole cluster (read-only): it reads the state every node replicates.
    '/inspect': (req, res) => void (inspector?.handle(req, res) || res.writeHead(503).end('starting')),
  },
)
await new Promise<void>((resolve, reject) => {
  http.once('error', reject)
  http.listen({ port: Number(env.PORT ?? 8080), host, backlog: 4_096 }, () => resolve()) // room for a reconnect storm
})
const port = (http.address() as { port: number }).port
const wsPort = kind === 'ws' ? port : Number(env.WS_PORT ?? port + 10_000)

const transport = await createTransport(kind, http, wsPort, host)
chat = createChatServer({ transport, nodeId, agentToken, ...(bus ? { bus } : {}) })
await chat.srv.listen()
inspector = createInspector(chat.srv, { auth: basicAuth({ password: inspectPassword }) })
process.send?.({ type: 'ready', nodeId, port, wsPort })

let stopping: Promise<void> | undefined
const stop = () =>
  (stopping ??= (async () => {
    // Graceful: clients get `goaway` and move to another node at once; then the page server stops.
    inspector?.close()
    await chat?.close()
    http.closeAllConnections()
    await new Promise<void>((r) => http.close(() => r()))
    await stopTelemetry().catch(() => {})
    process.exit(0)
  })())
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
process.on('disconnect', () => void stop()) // the launcher is gone
