// Internals shared by @rt packages (server, client, rooms, bus adapters). Not part of the public API.
export { decodeEnvelope, decodeEnvelopeMeta, encodeEnvelope, encodeEnvelopeMeta, fromPeers, subjectToken } from './envelope.js'
export type { Envelope, EnvelopeMeta } from './envelope.js'
export { ContractViolation } from './errors.js'
export { mismatch, validateSync } from './schema.js'
export type { SyncResult } from './schema.js'
export { TRACE_CARRIER_LIMITS, isTraceCarrier } from './wire.js'
export type { TraceCarrier } from './protocol.js'
