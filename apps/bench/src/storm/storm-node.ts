// The @rt node of the reconnect storm, in a process of its own. It owns the listening HTTP server,
// so it counts every upgrade request on the port, and answers them with 503 while no @rt server is
// attached: what a draining deploy or a load balancer answers while the node is down.
// It counts its clients' subscriptions to topic `pulse` and publishes on it when asked.
// argv[2]: { port, up, spare, bus } as JSON (port 0 picks one; up: start the @rt server at once;
// spare: do not listen until told, so a replacement is ready the moment the old process dies;
// bus: a NATS url, so the node is one of a cluster).
import { createServer as createHttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { RtError, createServer, type Bus } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { benchContract } from '../server/bench-contract.js'
import { TOKEN } from '../server/bench-server.js'
import { nowUs } from '../wire/clock.js'
import { announce, serveIpc } from '../wire/ipc.js'
import { Buckets, nowMs } from './buckets.js'

const { port, up, spare, bus } = JSON.parse(process.argv[2] ?? '{}') as { port: number; up: boolean; spare?: boolean; bus?: string }
const upgrades = new Buckets()
let connections = 0
let lastConnectionAt = 0

const http = createHttpServer((_req, res) => res.writeHead(426).end())
const count = () => upgrades.add()
http.on('upgrade', count)
http.on('upgrade', (_req, socket: Duplex) => {
  // An attached @rt transport answers (503 itself while draining). Asked of the listeners, not of
  // `rt`: between the transport letting go and `rt` being cleared, a request would get no answer.
  if (http.listenerCount('upgrade') > 2) return
  socket.on('error', () => {})
  socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
})

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

async function busFor(): Promise<Bus | undefined> {
  if (!bus) return undefined
  const { createNatsBus } = await import('@rt/bus-nats')
  return createNatsBus({ servers: bus, prefix: 'storm' })
}

function startRt(b: Bus | undefined) {
  return createServer({
    contract: benchContract,
    transport: createWsTransport({ server: http }),
    ...(b && { bus: b }),
    authenticate: ({ auth }) => {
      if ((auth as { token?: unknown } | undefined)?.token !== TOKEN) throw new RtError('UNAUTHORIZED', 'bad token')
      return { user: { id: 'u' } }
    },
    handlers: { shared: { echo: (input) => input } },
    onConnection: () => {
      connections++
      lastConnectionAt = nowMs()
    },
  })
}
let rt: ReturnType<typeof startRt> | undefined

// Sampled every 20 ms: sockets in their handshake (srv.stats().handshakes), the most per 100 ms
// slot; and the clients' subscriptions to topic `pulse` ([time, count] each time it changes).
const inHandshake = new Map<number, number>()
const subscribed: [number, number][] = []
setInterval(() => {
  const s = rt?.stats()
  const subs = s?.topics.pulse ?? 0
  if (subs !== (subscribed.at(-1)?.[1] ?? 0)) subscribed.push([nowMs(), subs])
  const n = s?.handshakes ?? 0
  if (n === 0) return
  const k = Math.floor(nowMs() / 100)
  inHandshake.set(k, Math.max(inHandshake.get(k) ?? 0, n))
}, 20).unref()

async function attach(): Promise<{ at: number; nodeId: string; cpuUs: number }> {
  const srv = startRt(await busFor())
  await srv.listen()
  rt = srv
  return { at: nowMs(), nodeId: srv.nodeId, cpuUs: cpuUs() }
}

const listen = () =>
  new Promise<{ at: number }>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => resolve({ at: nowMs() }))
  })
if (!spare) await listen()
if (up) await attach()

serveIpc({
  listen,
  startRt: attach,
  /** srv.close(): goaway to every client, 503 to upgrades while draining, then 1001. */
  async stopRt() {
    const srv = rt
    const at = nowMs()
    await srv?.close()
    rt = undefined
    return { at, closedAt: nowMs() }
  },
  /** One publication on topic `pulse`, to every subscribed client. */
  async pulse() {
    await rt?.publish('pulse', { ts: nowUs(), seq: 1 })
    return { at: nowMs() }
  },
  stats: () => ({ upgrades: upgrades.entries(), connections, open: rt?.connections.size ?? 0, lastConnectionAt, cpuUs: cpuUs(), handshakes: [...inHandshake], subscribed }),
  async exit() {
    await rt?.close().catch(() => {})
    http.closeAllConnections()
    http.close()
    setImmediate(() => process.exit(0))
  },
})
process.on('SIGTERM', () => process.exit(0))
const a = http.address()
announce({ port: typeof a === 'object' && a ? a.port : port, pid: process.pid })
