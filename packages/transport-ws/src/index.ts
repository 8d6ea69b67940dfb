export { createWsTransport } from './create-ws-transport.js'
export type { WsCompressionOptions, WsTransportOptions } from './create-ws-transport.js'
