import { createUwsTransport } from '@rt/transport-uws'
import type { TransportFactory } from './harness.js'

/** The uWebSockets.js transport on a loopback port, as `wsTransport` is for ws. */
export const uwsTransport: TransportFactory = (port = 0) => createUwsTransport({ port, host: '127.0.0.1' })
