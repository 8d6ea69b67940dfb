import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { CloseCode, parseSubprotocols } from '@rt/contract'
import { closeGrace, type Transport, type TransportHandler, type TransportListenOptions, type TransportRequest } from '@rt/server'
import { formatAddress } from './format-address.js'
import { loadUws } from './load-uws.js'
import { PubSub, UwsSocket, atLeast, type UserData } from './uws-socket.js'
import type { UwsApp, UwsBehavior, UwsHttpResponse, UwsListenSocket } from './uws-types.js'

/** permessage-deflate (RFC 7692) for clients that offer it, with uWS's shared compressor and decompressor (no context takeover). */
export interface UwsCompressionOptions {
  /** Frames of fewer bytes (encoded) go uncompressed. @default 1024 */
  threshold?: number
}

export interface UwsTransportOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number
  /** @default all interfaces */
  host?: string
  /** Only upgrades on this path are taken; others get HTTP 404. @default any path */
  path?: string
  /**
   * Outbound bytes buffered for one socket before a native publish closes it as a slow consumer (4005).
   * @default the server's `limits.maxBufferedBytes`
   */
  maxBackpressure?: number
  /** Seconds of silence before uWS pings and then drops a socket; 0 leaves liveness to the server's heartbeats. @default 0 */
  idleTimeout?: number
  /** permessage-deflate for clients that offer it; `true` takes the defaults. @default false */
  compression?: UwsCompressionOptions | boolean
}

const DEFAULT_BACKPRESSURE = 4 << 20
/**
 * uWS cuts a frame over `maxPayloadLength` with 1006 and this reason, without a close frame; a
 * compressed one that inflates past it (or does not inflate) gets ", or other inflation error" added.
 */
const TOO_BIG = 'Received too big message'

const decoder = new TextDecoder()

/** A port the OS reports free right now. */
function freePort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

function refuse(res: UwsHttpResponse, status: number, message: string): void {
  res.writeStatus(`${status} ${message}`).writeHeader('Content-Type', 'text/plain').end(message, true)
}

/** A `Transport` over uWebSockets.js, with native pub/sub for room and topic fan-out. */
export function createUwsTransport(options: UwsTransportOptions): Transport {
  const uws = loadUws()
  let app: UwsApp | undefined
  let listenSocket: UwsListenSocket | undefined
  let limit = DEFAULT_BACKPRESSURE
  const live = new Set<UwsSocket>()
  const pubsub = new PubSub(() => limit)
  const compression = options.compression === true ? {} : options.compression || undefined
  if (compression) pubsub.threshold = compression.threshold ?? 1024

  function behavior(handler: TransportHandler, maxFrameBytes: number): UwsBehavior<UserData> {
    return {
      // uWS cuts larger frames with no close frame (the peer sees 1006): leave headroom so that
      // a frame over the limit gets the 1009 close the ws transport sends.
      maxPayloadLength: maxFrameBytes + Math.max(maxFrameBytes, 64 * 1024),
      // 0 turns off uWS's drop-over-maxBackpressure (app.publish would still report success):
      // nothing is ever dropped; a socket over the limit is closed with 4005 instead, by the core
      // after a direct send, or by `PubSub` after a publish.
      maxBackpressure: 0,
      closeOnBackpressureLimit: false,
      idleTimeout: options.idleTimeout ?? 0,
      sendPingsAutomatically: (options.idleTimeout ?? 0) > 0,
      // Shared: no socket keeps a deflate window (the peer is told no context takeover), and
      // uWS inflates into a buffer it stops filling past `maxPayloadLength`.
      compression: compression ? (uws.SHARED_COMPRESSOR ?? 1) | (uws.SHARED_DECOMPRESSOR ?? 256) : (uws.DISABLED ?? 0),
      upgrade(res, req, context) {
        // Everything below answers synchronously (`req` dies when this returns): nothing to cancel later.
        res.onAborted(() => {})
        const path = req.getUrl()
        if (options.path !== undefined && path !== options.path) return refuse(res, 404, 'Not Found')
        const headers: Record<string, string> = {}
        req.forEach((k, v) => {
          const prev = headers[k]
          headers[k] = prev === undefined ? v : `${prev}, ${v}`
        })
        const query = req.getQuery()
        const offered = headers['sec-websocket-protocol']
        const request: TransportRequest = {
          url: query ? `${path}?${query}` : path,
          headers,
          remoteAddress: formatAddress(res.getRemoteAddress()),
          protocols: parseSubprotocols(offered),
        }
        const verdict = handler.upgrade(request)
        if (verdict !== true) return refuse(res, verdict.status, verdict.message)
        const key = headers['sec-websocket-key'] ?? ''
        // The subprotocol of the codec the client asked for; else the header as it came.
        res.upgrade<UserData>({ request }, key, handler.protocol?.(request) ?? offered ?? '', headers['sec-websocket-extensions'] ?? '', context)
      },
      open(ws) {
        const data = ws.getUserData()
        const s = new UwsSocket(ws, pubsub)
        data.socket = s
        live.add(s)
        const request = data.request!
        // Needed only while the core authenticates: do not keep headers for the socket's life.
        data.request = undefined
        const listener = handler.open(s, request)
        s.listener = listener
        // The core closed it during `open` (e.g. a refused origin): report that close now.
        if (s.pendingClose) listener.close(...s.pendingClose)
      },
      message(ws, message, isBinary) {
        const s = ws.getUserData().socket
        if (!s || s.closed) return
        if (message.byteLength > maxFrameBytes) return s.close(CloseCode.MESSAGE_TOO_BIG, 'message too big')
        // `message` is neutered when this handler returns: decode or copy it now.
        s.listener?.message(isBinary ? new Uint8Array(message.slice(0)) : decoder.decode(message))
      },
      close(ws, code, message) {
        const s = ws.getUserData().socket
        if (!s) return
        const reason = decoder.decode(message)
        live.delete(s)
        if (code === 1006 && reason.startsWith(TOO_BIG)) s.onGone(CloseCode.MESSAGE_TOO_BIG, 'message too big')
        else s.onGone(code, reason)
      },
    }
  }

  return {
    async listen(handler: TransportHandler, listenOptions: TransportListenOptions) {
      if (app) throw new Error('uWS transport is already listening')
      const { maxFrameBytes, maxBufferedBytes } = listenOptions
      limit = options.maxBackpressure ?? maxBufferedBytes
      const a = uws.App()
      a.ws<UserData>('/*', behavior(handler, maxFrameBytes))
      a.any('/*', (res) => refuse(res, 426, 'Upgrade Required'))
      // An exclusive port: without it uSockets sets SO_REUSEPORT and a second server would share the port.
      const exclusive = uws.LIBUS_LISTEN_EXCLUSIVE_PORT ?? 1
      const bind = (port: number) =>
        new Promise<UwsListenSocket | false>((resolve) => {
          if (options.host === undefined) a.listen(port, exclusive, resolve)
          else a.listen(options.host, port, exclusive, resolve)
        })
      let socket: UwsListenSocket | false = false
      if (options.port !== 0) socket = await bind(options.port)
      // uSockets sets SO_REUSEADDR only for an explicit port, and its accepted sockets inherit it:
      // bind a free port by number so that a restart can rebind it at once, as with Node's listeners.
      else for (let i = 0; i < 5 && !socket; i++) socket = await bind(await freePort(options.host))
      if (!socket) {
        a.close()
        throw new Error(`uWS transport could not listen on ${options.host ?? '*'}:${options.port}`)
      }
      app = a
      listenSocket = socket
      return { port: uws.us_socket_local_port(socket) }
    },

    async close() {
      if (!app) return
      const a = app
      app = undefined
      if (listenSocket) uws.us_listen_socket_close(listenSocket)
      listenSocket = undefined
      // The core has closed every socket: give what is still open the grace period, then cut.
      const left = await closeGrace(() => live.size)
      if (live.size > 0) return a.close()
      // Sockets closed from JS finish their close handshake inside uWS: cut any left at the deadline.
      setTimeout(() => a.close(), left).unref()
    },

    publish(channel, frame) {
      if (!app) return
      pubsub.flush()
      // One deflate for every subscriber that negotiated compression (uWS's shared compressor).
      app.publish(channel, frame, typeof frame !== 'string', atLeast(frame, pubsub.threshold))
      pubsub.afterPublish(channel)
    },
  }
}
