// Internals shared by @rt packages (server, client, rooms, bus adapters). Not part of the public API.
export { decodeEnvelope, encodeEnvelope, fromPeers, subjectToken } from './envelope.js'
export type { Envelope } from './envelope.js'
export { ContractViolation } from './errors.js'
export { mismatch, validateSync } from './schema.js'
export type { SyncResult } from './schema.js'
