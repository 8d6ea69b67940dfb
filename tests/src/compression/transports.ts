import { createUwsTransport } from '@rt/transport-uws'
import { createWsTransport } from '@rt/transport-ws'
import type { TransportFactory } from '../harness.js'

/** `compression` as both transports take it. */
export type Compression = { threshold?: number } | boolean

/** Each transport, with compression as given (omitted: the default, off). */
export const compressedTransports: { name: string; make: (compression?: Compression) => TransportFactory }[] = [
  {
    name: 'ws',
    make: (compression) => (port = 0) => createWsTransport({ port, host: '127.0.0.1', ...(compression === undefined ? {} : { compression }) }),
  },
  {
    name: 'uWebSockets.js',
    make: (compression) => (port = 0) => createUwsTransport({ port, host: '127.0.0.1', ...(compression === undefined ? {} : { compression }) }),
  },
]

/** What a browser and the Node `ws` client offer by default. */
export const OFFER = 'permessage-deflate; client_max_window_bits'
