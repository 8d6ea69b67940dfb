// Internals shared by @rt packages (server, rooms, bus adapters). Not part of the public API.
export { decodeEnvelope, encodeEnvelope, subjectToken } from './envelope.js'
export type { Envelope } from './envelope.js'
export { ContractViolation } from './errors.js'
