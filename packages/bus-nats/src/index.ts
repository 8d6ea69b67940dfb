export { createNatsBus } from './create-nats-bus.js'
export type { NatsBus, NatsBusOptions } from './create-nats-bus.js'
export type { NatsHistory, NatsHistoryOptions } from './jetstream-history.js'
