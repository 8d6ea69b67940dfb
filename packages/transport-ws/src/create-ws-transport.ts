import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { parseSubprotocols, type Frame } from '@rt/contract'
import { QueuedSocket, closeGrace } from '@rt/server'
import type { Transport, TransportHandler, TransportRequest } from '@rt/server'
import { FrameCache } from './frame-cache.js'

/** permessage-deflate (RFC 7692) for clients that offer it, with no context takeover either way. */
export interface WsCompressionOptions {
  /** Frames of fewer bytes (encoded) go uncompressed. @default 1024 */
  threshold?: number
}

/** Options both modes share. */
interface WsCommonOptions {
  /** permessage-deflate for clients that offer it; `true` takes the defaults. @default false */
  compression?: WsCompressionOptions | boolean
}

export type WsTransportOptions = WsCommonOptions &
  (
    | {
        /** Port to listen on; 0 picks a free one. */
        port: number
        /** @default all interfaces */
        host?: string
        path?: string
        /**
         * Connections the kernel queues before the server accepts them (capped by `net.core.somaxconn`).
         * Above Node's 511, so that clients coming back at once to a busy node are queued, not
         * dropped into a 1 s SYN retry. @default 4_096
         */
        backlog?: number
      }
    | {
        /** Attach to an existing HTTP server (it keeps serving its other routes). */
        server: HttpServer
        /** Only upgrades on this path are taken; others are left to other listeners. @default any path */
        path?: string
      }
  )

/**
 * The one use of ws's private `_socket`: the transport never sends through ws (it frames and
 * compresses itself), so ws queues nothing of its own (its sender waits only on its own
 * deflates), and writing its net.Socket directly keeps the order of ws's own writes (the close frame).
 */
function rawWrite(ws: WebSocket, data: Buffer): void {
  ;(ws as unknown as { _socket?: { write(b: Buffer): boolean } })._socket?.write(data)
}

/** A ws socket on the shared write queue: each turn's frames framed together, one socket write. */
class WsSocket extends QueuedSocket<FrameCache> {
  constructor(
    readonly ws: WebSocket,
    scheduler: FrameCache,
    /** The permessage-deflate window negotiated for server→client messages; 0 for none. */
    private readonly bits: number,
  ) {
    super(scheduler)
  }

  protected write(frames: Frame[]): void {
    if (this.ws.readyState === 1) rawWrite(this.ws, this.scheduler.framed(frames, this.bits))
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

function wire(client: WebSocket, s: WsSocket): void {
  let refused: [number, string] | undefined
  client.on('message', (data: Buffer, isBinary: boolean) => s.listener!.message(isBinary ? new Uint8Array(data) : data.toString()))
  client.on('error', (e: Error) => {
    const code = sentCode(e)
    if (code !== undefined) refused ??= [code, code === 1009 ? 'message too big' : e.message.slice(0, 120)]
  })
  client.once('close', (code: number, reason: Buffer) => {
    // Drops the queue and the grace timer, which would keep the socket (and all it holds) for 2 s.
    s.onClose()
    if (code === 1006 && refused) s.listener!.close(...refused)
    else s.listener!.close(code, reason.toString())
  })
}

function toRequest(req: IncomingMessage): TransportRequest {
  const headers = req.headers as Record<string, string | undefined>
  return { url: req.url ?? '/', headers, remoteAddress: req.socket.remoteAddress ?? '', protocols: parseSubprotocols(headers['sec-websocket-protocol']) }
}

/** The server→client window our response granted: 15 unless the client asked for less; 0 without the extension. */
function negotiatedBits(headers: string[]): number {
  const ext = headers.find((h) => h.startsWith('Sec-WebSocket-Extensions:'))
  if (!ext) return 0
  const bits = Number(/server_max_window_bits=(\d+)/.exec(ext)?.[1] ?? 15)
  // zlib cannot deflate with an 8-bit window (it uses 9): such a socket gets plain frames.
  return bits >= 9 ? bits : 0
}

function refuse(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`)
}

/** A `Transport` over the `ws` package: a port of its own, or attached to an existing HTTP server. */
export function createWsTransport(options: WsTransportOptions): Transport {
  let http: HttpServer | undefined
  let wss: WebSocketServer | undefined
  let onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined
  const compression = options.compression === true ? {} : options.compression || undefined
  const scheduler = new FrameCache(compression ? (compression.threshold ?? 1024) : Infinity)

  return {
    async listen(handler: TransportHandler, { maxFrameBytes }) {
      if (wss) throw new Error('ws transport is already listening')
      const server = 'server' in options ? options.server : createHttpServer((_req, res) => res.writeHead(426).end('Upgrade Required'))
      const path = options.path
      // ws inflates client messages and counts `maxPayload` on the inflated bytes (1009 past it);
      // the transport deflates what it sends. No context takeover either way: a compressed
      // broadcast is then the same bytes for every socket, and no socket keeps a deflate window.
      const perMessageDeflate = compression ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : false
      // The request of the upgrade under way, for `handleProtocols` (ws calls it within handleUpgrade).
      let upgrading: TransportRequest | undefined
      // The subprotocol of the codec the client asked for; else ws's own choice, the first offered.
      const handleProtocols = (offered: Set<string>): string | false =>
        (upgrading && handler.protocol?.(upgrading)) ?? (offered.values().next().value as string | undefined) ?? false
      const ws = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate, clientTracking: true, handleProtocols })
      wss = ws
      // Emitted synchronously inside handleUpgrade, just before its callback.
      let bits = 0
      if (compression) ws.on('headers', (headers: string[]) => void (bits = negotiatedBits(headers)))
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
        bits = 0
        upgrading = request
        ws.handleUpgrade(req, socket, head, (client) => {
          const s = new WsSocket(client, scheduler, bits)
          s.listener = handler.open(s, request)
          wire(client, s)
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
        server.listen({ port: options.port, host: options.host, backlog: options.backlog ?? 4_096 }, () => {
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
