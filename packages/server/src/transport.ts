import type { Frame } from '@rt/contract'

/** What the core learns about the HTTP upgrade that opened a socket. */
export interface TransportRequest {
  url: string
  headers: Readonly<Record<string, string | undefined>>
  remoteAddress: string
  /** The WebSocket subprotocols the client offered, in its order. @default read from the `sec-websocket-protocol` header */
  protocols?: readonly string[]
}

/** One client socket, as a transport exposes it to the core. */
export interface TransportSocket {
  /** Queues a frame. Transports coalesce writes per socket per event-loop turn (see `QueuedSocket`). */
  send(frame: Frame): void
  /** Flushes what is queued, then closes with a WebSocket close code. Safe to call twice. */
  close(code: number, reason?: string): void
  /** Bytes queued for this socket and not yet written to the kernel. */
  readonly bufferedAmount: number
  /** With native pub/sub only: start receiving frames published on `channel`. */
  subscribe?(channel: string): void
  /** With native pub/sub only. */
  unsubscribe?(channel: string): void
  /**
   * Optional: from now on, give this socket's frames and its close to `listener` instead of the
   * listener `open` returned. The core calls it once, when the handshake has ended, so that an
   * open connection's frames go to a small object of its own and the handshake's is released.
   */
  rebind?(listener: SocketListener): void
}

/** What the core does with one socket's traffic; returned by `TransportHandler.open`. */
export interface SocketListener {
  message(data: Frame): void
  /** The socket is gone. Called exactly once, whoever closed it. */
  close(code: number, reason: string): void
}

/** The core's side of a transport. */
export interface TransportHandler {
  /** Decides synchronously, during the upgrade, whether to accept it: an HTTP status to refuse. */
  upgrade(request: TransportRequest): true | { status: number; message: string }
  /**
   * The subprotocol to answer the upgrade with (`rt.<codec>`, the codec the client asked for);
   * undefined when the client asked for no codec: the transport answers as it would without @rt.
   */
  protocol?(request: TransportRequest): string | undefined
  open(socket: TransportSocket, request: TransportRequest): SocketListener
}

export interface TransportListenOptions {
  /** Largest inbound frame in bytes; larger ones close the socket with 1009. */
  maxFrameBytes: number
  /** Outbound bytes buffered for a socket before it is closed as a slow consumer (4005); for native publish. */
  maxBufferedBytes: number
}

/**
 * A WebSocket server adapter. Small on purpose: the core owns every behaviour; an adapter
 * moves frames. `publish` is an optional capability (native pub/sub) the core uses when present.
 */
export interface Transport {
  listen(handler: TransportHandler, options: TransportListenOptions): Promise<{ port: number }>
  /** Stops accepting and releases the listening socket. Open sockets were closed by the core before. */
  close(): Promise<void>
  /** Native pub/sub: deliver `frame` to every socket subscribed to `channel`, with one call. */
  publish?(channel: string, frame: Frame): void
}
