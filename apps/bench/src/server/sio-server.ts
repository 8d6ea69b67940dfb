import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { nowUs } from '../wire/clock.js'
import { ROOM, TOKEN, type BenchServer, type ServerConfig } from './bench-server.js'

/** Socket.IO 4, websocket transport only, auth in a middleware; with the Redis adapter for a cluster. */
export async function startSioServer(config: ServerConfig): Promise<BenchServer> {
  const http = createServer()
  const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 1 << 20 })
  let redis: { quit(): Promise<unknown> }[] = []
  if (config.bus) {
    const { createClient } = await import('redis')
    const { createAdapter } = await import('@socket.io/redis-adapter')
    const pub = createClient({ url: config.bus.url })
    const sub = pub.duplicate()
    await Promise.all([pub.connect(), sub.connect()])
    io.adapter(createAdapter(pub, sub))
    redis = [pub, sub]
  }
  let users = 0
  io.use((socket, next) => ((socket.handshake.auth as { token?: unknown }).token === TOKEN ? next() : next(new Error('unauthorized'))))
  io.on('connection', (socket) => {
    void socket.join([ROOM, `u${++users}`])
    socket.on('echo', (data: unknown, ack: (d: unknown) => void) => ack(data))
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const a = http.address()
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    broadcast: (seq) => void io.to(ROOM).emit('tick', { ts: nowUs(), seq }),
    roomSize: () => io.of('/').adapter.rooms.get(ROOM)?.size ?? 0,
    async close() {
      io.disconnectSockets(true)
      await new Promise<void>((r) => io.close(() => r()))
      await Promise.all(redis.map((c) => c.quit().catch(() => {})))
    },
  }
}
