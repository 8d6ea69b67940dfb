import { RtError, createServer, type Bus, type Conn, type Transport } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { nowUs } from '../wire/clock.js'
import { benchContract } from './bench-contract.js'
import { ROOM, TOKEN, type BenchServer, type ServerConfig } from './bench-server.js'
import { uwsFacts } from './uws-native.js'

async function transportFor(kind: ServerConfig['kind']): Promise<Transport> {
  if (kind === 'rt-ws') return createWsTransport({ port: 0, host: '127.0.0.1' })
  const { createUwsTransport } = await import('@rt/transport-uws')
  return createUwsTransport({ port: 0, host: '127.0.0.1' })
}

async function busFor(config: ServerConfig): Promise<Bus | undefined> {
  if (!config.bus) return undefined
  const { createNatsBus } = await import('@rt/bus-nats')
  return createNatsBus({ servers: config.bus.url, prefix: 'bench' })
}

/** An @rt node: every connection joins room `bench`; `echo` returns its input. */
export async function startRtServer(config: ServerConfig): Promise<BenchServer> {
  let users = 0
  // Set once the server exists: referring to `srv` inside its own options makes its type circular.
  let join: (conn: Conn<typeof benchContract, 'user'>) => void = () => {}
  const bus = await busFor(config)
  const srv = createServer({
    contract: benchContract,
    transport: await transportFor(config.kind),
    ...(bus && { bus }),
    ...(config.nodeId && { nodeId: config.nodeId }),
    authenticate: ({ auth }) => {
      if ((auth as { token?: unknown } | undefined)?.token !== TOKEN) throw new RtError('UNAUTHORIZED', 'bad token')
      return { user: { id: `u${++users}` } }
    },
    handlers: { shared: { echo: (input) => input } },
    onConnection: (conn) => join(conn),
    // The load clients call far above the default per-connection rate (200/s): a benchmark
    // measures the work, not the limiter. The token bucket still runs on every frame.
    limits: { ratePerSecond: 1e9, rateBurst: 1e9 },
  })
  const bench = srv.room(ROOM)
  // The room, and the user's own room (the seed's DM pattern).
  join = (conn) => {
    bench.add(conn)
    srv.room(`u.${conn.ctx.user.id}`).add(conn)
  }
  const { port } = await srv.listen()
  return {
    port,
    broadcast: (seq) => bench.broadcast('tick', { ts: nowUs(), seq }),
    roomSize: () => bench.size,
    close: () => srv.close(),
    facts: config.kind === 'rt-uws' ? uwsFacts() : {},
    state: async () => {
      const s = srv.stats()
      const online = await srv.presence.count()
      return {
        connections: s.connections,
        rooms: s.rooms,
        roomsInCluster: (await srv.rooms()).length,
        busSubscriptions: s.busSubscriptions,
        directoryConnections: online.connections,
        onlineUsers: online.users,
      }
    },
  }
}
