/** A live subscription on a bus subject. */
export interface BusSubscription {
  unsubscribe(): void
}

/** Connection state of a bus, for adapters whose link can drop (NATS). */
export type BusStatus = 'connected' | 'reconnecting' | 'closed'

/**
 * The cluster bus every @rt node talks through: plain subject pub/sub. Subjects are
 * dot-separated tokens; `*` matches one token and `>` the rest, as in NATS. Everything
 * cross-node (rooms, addressing, topics, presence) is built over these few methods, so a new
 * bus implements only these.
 *
 * Echoes: a publish reaches the publisher's own subscriptions too, and a bus need not (and
 * should not) suppress them. Every @rt cluster message names its origin node, and @rt drops its
 * own in one place (`fromPeers`), so a bus stays two methods with no idea of "self" — core NATS's
 * `noEcho` is per connection, and Redis has none.
 */
export interface Bus {
  /**
   * Fire-and-forget; delivered to every subscription on every node, the publisher included, and
   * to each subscription in the order this node published (@rt relies on that order).
   */
  publish(subject: string, data: Uint8Array): void
  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): BusSubscription
  /** Resolves once everything published so far has reached the bus. */
  flush(): Promise<void>
  /** Releases this node's link to the bus: subscriptions are dropped, pending publishes flushed. */
  close(): Promise<void>
  /** Current link state; a bus that cannot disconnect is always `connected`. */
  readonly status?: BusStatus
  /** Called on every status change. */
  onStatus?(listener: (status: BusStatus) => void): () => void
}
