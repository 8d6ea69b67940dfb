export { createWsTransport } from './create-ws-transport.js'
export type { WsTransportOptions } from './create-ws-transport.js'
