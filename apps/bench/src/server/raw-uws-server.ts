import { nowUs } from '../wire/clock.js'
import { ROOM, TOKEN, tickFrame, type BenchServer } from './bench-server.js'
import { loadUws, uwsFacts } from './uws-native.js'

/** Plain uWebSockets.js: token checked on the upgrade, the room a native topic (and one per user), `app.publish` to broadcast, RPC an echo. */
export async function startRawUwsServer(): Promise<BenchServer> {
  const uws = loadUws()
  const app = uws.App()
  let users = 0
  app.ws('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: 1 << 20,
    maxBackpressure: 64 << 20,
    idleTimeout: 120,
    upgrade(res, req, context) {
      if (!req.getQuery().includes(`token=${TOKEN}`)) return void res.writeStatus('401 Unauthorized').end()
      res.upgrade(
        {},
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      )
    },
    open: (ws) => {
      ws.subscribe(ROOM)
      ws.subscribe(`u.u${++users}`)
    },
    message: (ws, message, isBinary) => void ws.send(message, isBinary),
  })
  const listen = await new Promise<unknown>((r) => app.listen('127.0.0.1', 0, r))
  if (!listen) throw new Error('uWS could not listen')
  return {
    port: uws.us_socket_local_port(listen as never),
    broadcast: (seq) => void app.publish(ROOM, tickFrame(nowUs(), seq), false),
    roomSize: () => app.numSubscribers(ROOM),
    async close() {
      uws.us_listen_socket_close(listen as never)
      ;(app as { close?: () => void }).close?.()
    },
    facts: uwsFacts(),
  }
}
