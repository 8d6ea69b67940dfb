import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Frame } from '@rt/contract'
import { QueuedSocket, closeGrace, createWriteScheduler } from '@rt/server'
import type { SocketListener, Transport, TransportHandler, TransportRequest, WriteScheduler } from '@rt/server'

export type WsTransportOptions =
  | {
      /** Port to listen on; 0 picks a free one. */
      port: number
      /** @default all interfaces */
      host?: string
      path?: string
    }
  | {
      /** Attach to an existing HTTP server (it keeps serving its other routes). */
      server: HttpServer
      /** Only upgrades on this path are taken; others are left to other listeners. @default any path */
      path?: string
    }

/** An unmasked server→client WebSocket frame header (FIN set). */
function header(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length])
  const h = Buffer.allocUnsafe(length < 65_536 ? 4 : 10)
  h[0] = 0x80 | opcode
  if (length < 65_536) {
    h[1] = 126
    h.writeUInt16BE(length, 2)
  } else {
    h[1] = 127
    h.writeBigUInt64BE(BigInt(length), 2)
  }
  return h
}

/** Frames a socket's queue into one buffer: one `write` per socket per turn, whatever the count. */
function frameAll(frames: Frame[]): Buffer {
  const parts: Buffer[] = []
  for (const f of frames) {
    const data = typeof f === 'string' ? Buffer.from(f) : Buffer.from(f.buffer, f.byteOffset, f.byteLength)
    parts.push(header(typeof f === 'string' ? 1 : 2, data.length), data)
  }
  return Buffer.concat(parts)
}

// After a broadcast every member's queue holds the same frames: frame them once. Module-level
// (no field per socket), and dropped after each turn's writes.
let lastFrames: Frame[] | undefined
let lastFramed: Buffer | undefined

function framed(frames: Frame[]): Buffer {
  const last = lastFrames
  if (last && last.length === frames.length && frames.every((f, i) => f === last[i])) return lastFramed!
  lastFrames = frames
  return (lastFramed = frameAll(frames))
}

function dropFramed(): void {
  lastFrames = lastFramed = undefined
}

/**
 * The one use of ws's private `_socket`: with permessage-deflate off (set below) ws queues
 * nothing of its own, so writing its net.Socket directly keeps the order of ws's own writes
 * (the close frame).
 */
function rawWrite(ws: WebSocket, data: Buffer): void {
  ;(ws as unknown as { _socket?: { write(b: Buffer): boolean } })._socket?.write(data)
}

/** A ws socket on the shared write queue: each turn's frames framed together, one socket write. */
class WsSocket extends QueuedSocket {
  constructor(
    readonly ws: WebSocket,
    scheduler: WriteScheduler,
  ) {
    super(scheduler)
  }

  protected write(frames: Frame[]): void {
    if (this.ws.readyState === 1) rawWrite(this.ws, framed(frames))
  }

  protected unsent(): number {
    return this.ws.bufferedAmount
  }

  protected end(code: number, reason: string): void {
    try {
      this.ws.close(code, reason)
    } catch {
      this.ws.terminate()
    }
  }

  // A dead peer never answers the close frame: cut it after the grace, not ws's 30 s.
  protected override cut(): void {
    this.ws.terminate()
  }

  /** From ws's 'close' event. */
  onClose(): void {
    this.markGone()
  }
}

// Module-level, so that no closure living as long as the socket holds the upgrade's scope
// (the request and its headers): ~0.5 KiB per connection.
function destroyOnError(this: Duplex): void {
  this.destroy()
}

/**
 * The close code ws sent for a broken frame (1002, 1007, 1009), from the error it emits. ws
 * itself then reports 1006, as no close frame came back; the core is told what the client saw.
 */
function sentCode(error: Error): number | undefined {
  const key = Object.getOwnPropertySymbols(error).find((k) => k.description === 'status-code')
  const code = key && (error as unknown as Record<symbol, unknown>)[key]
  return typeof code === 'number' ? code : undefined
}

function wire(client: WebSocket, s: WsSocket, listener: SocketListener): void {
  let refused: [number, string] | undefined
  client.on('message', (data: Buffer, isBinary: boolean) => listener.message(isBinary ? new Uint8Array(data) : data.toString()))
  client.on('error', (e: Error) => {
    const code = sentCode(e)
    if (code !== undefined) refused ??= [code, code === 1009 ? 'message too big' : e.message.slice(0, 120)]
  })
  client.once('close', (code: number, reason: Buffer) => {
    // Drops the queue and the grace timer, which would keep the socket (and all it holds) for 2 s.
    s.onClose()
    if (code === 1006 && refused) listener.close(...refused)
    else listener.close(code, reason.toString())
  })
}

function toRequest(req: IncomingMessage): TransportRequest {
  return { url: req.url ?? '/', headers: req.headers as Record<string, string | undefined>, remoteAddress: req.socket.remoteAddress ?? '' }
}

function refuse(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`)
}

/** A `Transport` over the `ws` package: a port of its own, or attached to an existing HTTP server. */
export function createWsTransport(options: WsTransportOptions): Transport {
  let http: HttpServer | undefined
  let wss: WebSocketServer | undefined
  let onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined
  const scheduler = createWriteScheduler(dropFramed)

  return {
    async listen(handler: TransportHandler, { maxFrameBytes }) {
      if (wss) throw new Error('ws transport is already listening')
      const server = 'server' in options ? options.server : createHttpServer((_req, res) => res.writeHead(426).end('Upgrade Required'))
      const path = options.path
      const ws = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate: false, clientTracking: true })
      wss = ws
      onUpgrade = (req, socket, head) => {
        if (path !== undefined && (req.url ?? '/').split('?')[0] !== path) {
          // Another upgrade listener of a shared server may want it; with none, answer it.
          if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found')
          return
        }
        socket.on('error', destroyOnError)
        const request = toRequest(req)
        const verdict = handler.upgrade(request)
        if (verdict !== true) return refuse(socket, verdict.status, verdict.message)
        ws.handleUpgrade(req, socket, head, (client) => {
          const s = new WsSocket(client, scheduler)
          wire(client, s, handler.open(s, request))
        })
      }
      server.on('upgrade', onUpgrade)
      if ('server' in options) {
        const a = server.address()
        return { port: typeof a === 'object' && a ? a.port : 0 }
      }
      http = server
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.port, options.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const a = server.address()
      return { port: typeof a === 'object' && a ? a.port : options.port }
    },

    async close() {
      if (!wss) return
      const ws = wss
      wss = undefined
      // The core has closed every socket: give their close handshakes the grace period, then cut.
      await closeGrace(() => ws.clients.size)
      for (const client of ws.clients) client.terminate()
      if ('server' in options) {
        if (onUpgrade) options.server.off('upgrade', onUpgrade)
      } else if (http) {
        const h = http
        http = undefined
        await new Promise<void>((r) => {
          h.close(() => r())
          h.closeAllConnections()
        })
      }
      await new Promise<void>((r) => ws.close(() => r()))
    },
  }
}
