import { createServer } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'
import { nowUs } from '../wire/clock.js'
import { TOKEN, tickFrame, type BenchServer } from './bench-server.js'

/**
 * Plain `ws`, written the way a ws app usually is: the token checked on the upgrade, the room a
 * Set, a broadcast one pre-encoded Buffer sent to every socket, RPC an echo. Each socket is also
 * in a room of its own user (a Map of Sets by user id), as a DM pattern has it.
 */
export async function startRawWsServer(): Promise<BenchServer> {
  const http = createServer((_req, res) => res.writeHead(426).end())
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 })
  const room = new Set<WebSocket>()
  const userRooms = new Map<string, Set<WebSocket>>()
  let users = 0
  http.on('upgrade', (req, socket, head) => {
    if (!(req.url ?? '').includes(`token=${TOKEN}`)) return void socket.destroy()
    socket.on('error', () => socket.destroy())
    wss.handleUpgrade(req, socket, head, (ws) => {
      room.add(ws)
      const user = `u${++users}`
      userRooms.set(user, new Set([ws]))
      ws.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary }))
      ws.on('error', () => {})
      ws.once('close', () => {
        room.delete(ws)
        userRooms.delete(user)
      })
    })
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const a = http.address()
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    broadcast(seq) {
      const frame = Buffer.from(tickFrame(nowUs(), seq))
      for (const ws of room) ws.send(frame, { binary: false })
    },
    roomSize: () => room.size,
    async close() {
      for (const ws of wss.clients) ws.terminate()
      http.closeAllConnections()
      await new Promise<void>((r) => http.close(() => r()))
    },
  }
}
