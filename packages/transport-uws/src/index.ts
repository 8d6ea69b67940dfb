export { createUwsTransport } from './create-uws-transport.js'
export type { UwsTransportOptions } from './create-uws-transport.js'
