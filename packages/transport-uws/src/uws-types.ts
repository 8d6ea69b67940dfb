// The part of uWebSockets.js this package uses, typed by shape: the official build and the
// npm republish ship different d.ts files, and the core stays free of either.

/** An opaque native listen socket. */
export type UwsListenSocket = object

/** Valid from `open` until the `close` handler returns; any call after that throws. */
export interface UwsWebSocket<U> {
  /** 1 written, 0 buffered (backpressure), 2 dropped over `maxBackpressure`. `compress` applies if the socket negotiated it. */
  send(message: string | Uint8Array, isBinary?: boolean, compress?: boolean): number
  getBufferedAmount(): number
  /** Sends a close frame and calls the `close` handler at once. */
  end(code?: number, reason?: string): void
  /** Cuts the connection without a close frame; calls the `close` handler at once. */
  close(): void
  subscribe(topic: string): boolean
  unsubscribe(topic: string): boolean
  cork(cb: () => void): unknown
  getUserData(): U
}

export interface UwsHttpRequest {
  getUrl(): string
  getQuery(): string | undefined
  forEach(cb: (key: string, value: string) => void): void
}

export interface UwsHttpResponse {
  writeStatus(status: string): UwsHttpResponse
  writeHeader(key: string, value: string): UwsHttpResponse
  end(body?: string, closeConnection?: boolean): UwsHttpResponse
  onAborted(cb: () => void): UwsHttpResponse
  getRemoteAddress(): ArrayBuffer
  upgrade<U>(userData: U, key: string, protocol: string, extensions: string, context: unknown): void
}

export interface UwsBehavior<U> {
  maxPayloadLength: number
  maxBackpressure: number
  closeOnBackpressureLimit: boolean
  idleTimeout: number
  sendPingsAutomatically: boolean
  compression: number
  upgrade(res: UwsHttpResponse, req: UwsHttpRequest, context: unknown): void
  open(ws: UwsWebSocket<U>): void
  message(ws: UwsWebSocket<U>, message: ArrayBuffer, isBinary: boolean): void
  close(ws: UwsWebSocket<U>, code: number, message: ArrayBuffer): void
}

export interface UwsApp {
  ws<U>(pattern: string, behavior: UwsBehavior<U>): UwsApp
  any(pattern: string, handler: (res: UwsHttpResponse, req: UwsHttpRequest) => void): UwsApp
  listen(host: string, port: number, options: number, cb: (socket: UwsListenSocket | false) => void): UwsApp
  listen(port: number, options: number, cb: (socket: UwsListenSocket | false) => void): UwsApp
  /** Returns true even when a slow subscriber dropped the message. */
  publish(topic: string, message: string | Uint8Array, isBinary?: boolean, compress?: boolean): boolean
  /** Closes the listen socket and every connection of the app. */
  close(): void
}

/** The module object of uWebSockets.js. */
export interface UwsModule {
  App(): UwsApp
  us_listen_socket_close(socket: UwsListenSocket): void
  us_socket_local_port(socket: UwsListenSocket): number
  /** Present on the native build only: the republish's JavaScript fallback lacks it. */
  SHARED_COMPRESSOR?: number
  SHARED_DECOMPRESSOR?: number
  DISABLED?: number
  LIBUS_LISTEN_EXCLUSIVE_PORT?: number
}
