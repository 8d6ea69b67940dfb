export { createUwsTransport } from './create-uws-transport.js'
export type { UwsCompressionOptions, UwsTransportOptions } from './create-uws-transport.js'
