import { nowUs } from '../wire/clock.js'
import { ROOM, TOKEN, tickFrame, type BenchServer, type ServerConfig } from './bench-server.js'
import { loadUws, uwsFacts } from './uws-native.js'

type Socket = { send(m: ArrayBuffer | string, isBinary?: boolean): unknown; cork(fn: () => void): unknown }

/** Answers written at the end of the event-loop turn, each socket's corked (as @rt writes). */
function turnWriter() {
  let queue: [Socket, ArrayBuffer | string][] = []
  const flush = () => {
    const q = queue
    queue = []
    for (const [ws, m] of q) ws.cork(() => ws.send(m, false))
  }
  return (ws: Socket, m: ArrayBuffer | string) => {
    if (queue.push([ws, m]) === 1) setImmediate(flush)
  }
}

/** What a call costs at least once it is decoded: the frame parsed, its id and input read, an answer encoded. */
function jsonAnswer(message: ArrayBuffer, decoder: TextDecoder): string {
  const call = JSON.parse(decoder.decode(message)) as { id: number; d: unknown }
  // `{"t":"call",…`: what the raw load client counts as an answer, shaped like @rt's result frame.
  return JSON.stringify({ t: 'call', id: call.id, d: call.d })
}

/**
 * Plain uWebSockets.js: token checked on the upgrade, the room a native topic (and one per user),
 * `app.publish` to broadcast, RPC an echo (or, for `pnpm bench:parts`, see `ServerConfig.rawRpc`
 * and `ServerConfig.rawSetup`).
 */
export async function startRawUwsServer(config: Pick<ServerConfig, 'rawRpc' | 'rawSetup'> = {}): Promise<BenchServer> {
  const uws = loadUws()
  const app = uws.App()
  let users = 0
  const later = turnWriter()
  const decoder = new TextDecoder()
  const rpc = config.rawRpc ?? 'echo'
  const hello = config.rawSetup === 'hello'
  const join = (ws: { subscribe(topic: string): unknown }) => {
    ws.subscribe(ROOM)
    ws.subscribe(`u.u${++users}`)
  }
  const answer =
    rpc === 'echo' ? (ws: Socket, message: ArrayBuffer, isBinary: boolean) => void ws.send(message, isBinary)
    : rpc === 'deferred' ? (ws: Socket, message: ArrayBuffer) => later(ws, message.slice(0)) // uWS reuses `message` after the callback
    : (ws: Socket, message: ArrayBuffer) => later(ws, jsonAnswer(message, decoder))
  app.ws('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: 1 << 20,
    maxBackpressure: 64 << 20,
    idleTimeout: 120,
    upgrade(res, req, context) {
      if (!hello && !req.getQuery().includes(`token=${TOKEN}`)) return void res.writeStatus('401 Unauthorized').end()
      res.upgrade(
        { in: !hello },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      )
    },
    open: (ws) => {
      if (!hello) join(ws)
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData() as { in: boolean }
      if (data.in) return answer(ws, message, isBinary)
      let h: { t?: unknown; auth?: { token?: unknown } } | undefined
      try {
        h = JSON.parse(decoder.decode(message)) as typeof h
      } catch {
        // not JSON: refused below
      }
      if (h?.t !== 'hello' || h.auth?.token !== TOKEN) return void ws.end(4001, 'unauthorized')
      data.in = true
      join(ws)
      ws.send(`{"t":"welcome","v":1,"connId":"c${users}"}`, false)
    },
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
