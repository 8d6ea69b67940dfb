import type { Bus, BusSubscription } from '@rt/contract'
import { stderrLogger, type Logger } from './telemetry/logger.js'

type Handler = (data: Uint8Array, subject: string) => void

/** The shared medium of in-memory buses: what a NATS server is to NATS buses. */
export interface MemoryHub {
  /** Live subscriptions across every bus on this hub. */
  readonly subscriptionCount: number
}

/**
 * One subscription: its own object (the same handler subscribed twice is two of them), with
 * `unsubscribe` on the prototype. A node holds one per room with a member, so a room of one
 * (a user's own room) costs this object and one hub entry, no closures and no Set.
 */
class Sub implements BusSubscription {
  active = true

  constructor(
    readonly subject: string,
    readonly handler: Handler,
    /** Its tokens when the subject has a wildcard; undefined for an exact subject. */
    readonly pattern: string[] | undefined,
    /** The bus that made it: the hub lists every bus's subscriptions, a bus keeps no list of its own. */
    readonly owner: { readonly hub: HubState },
  ) {}

  unsubscribe(): void {
    if (!this.active) return
    this.active = false
    this.owner.hub.remove(this)
  }
}

interface HubState extends MemoryHub {
  /** Exact subjects: the subscription itself while it is the only one, a Set beyond. */
  exact: Map<string, Sub | Set<Sub>>
  patterns: Set<Sub>
  add(sub: Sub): void
  remove(sub: Sub): void
  /** Every live subscription that `owner` made (for its close). */
  of(owner: unknown): Sub[]
}

/** Creates a hub that several in-memory buses (one per node) share. */
export function createMemoryHub(): MemoryHub {
  const hub: HubState = {
    exact: new Map(),
    patterns: new Set(),
    get subscriptionCount() {
      let n = this.patterns.size
      for (const subs of this.exact.values()) n += subs instanceof Set ? subs.size : 1
      return n
    },
    add(sub) {
      if (sub.pattern) return void this.patterns.add(sub)
      const had = this.exact.get(sub.subject)
      if (had === undefined) this.exact.set(sub.subject, sub)
      else if (had instanceof Set) had.add(sub)
      else this.exact.set(sub.subject, new Set([had, sub]))
    },
    remove(sub) {
      if (sub.pattern) return void this.patterns.delete(sub)
      const had = this.exact.get(sub.subject)
      if (had === sub) this.exact.delete(sub.subject)
      else if (had instanceof Set && had.delete(sub) && had.size === 0) this.exact.delete(sub.subject)
    },
    of(owner) {
      const found = [...this.patterns].filter((s) => s.owner === owner)
      for (const subs of this.exact.values()) for (const s of subs instanceof Set ? subs : [subs]) if (s.owner === owner) found.push(s)
      return found
    },
  }
  return hub
}

function matches(pattern: string[], subject: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]
    if (p === '>') return subject.length > i
    if (i >= subject.length || (p !== '*' && p !== subject[i])) return false
  }
  return pattern.length === subject.length
}

export interface MemoryBusOptions {
  /** Buses on the same hub reach each other, like nodes on one NATS. @default a private hub */
  hub?: MemoryHub
  /** Receives errors thrown by subscription handlers. @default logs them with `logger.error` */
  onError?: (error: unknown) => void
  /** Where handler errors are logged without `onError` (the server passes its own). @default errors to stderr */
  logger?: Logger
}

/**
 * The embedded default bus: one process, no network. Several servers given buses on one hub
 * behave as a cluster, which is how multi-node behaviour is tested without NATS.
 * Delivery is asynchronous (a microtask later) and in publish order, as on a real bus.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus & { readonly hub: MemoryHub } {
  const hub = (options.hub ?? createMemoryHub()) as HubState
  const logger = options.logger ?? stderrLogger
  const onError = options.onError ?? ((e: unknown) => logger.error({ err: e, where: 'bus' }, 'memory bus handler threw'))
  // What this bus's subscriptions point back to: their hub, and who made them.
  const owner = { hub }
  let closed = false

  const deliver = (subject: string, data: Uint8Array) => {
    const exact = hub.exact.get(subject)
    // A snapshot: a handler may subscribe or unsubscribe while this message is delivered.
    const targets: Sub[] = exact === undefined ? [] : exact instanceof Set ? [...exact] : [exact]
    if (hub.patterns.size > 0) {
      const tokens = subject.split('.')
      for (const sub of hub.patterns) if (matches(sub.pattern!, tokens)) targets.push(sub)
    }
    if (targets.length === 0) return
    for (const sub of targets) {
      try {
        // Each subscriber gets its own copy, as over a network.
        sub.handler(targets.length === 1 ? data : new Uint8Array(data), subject)
      } catch (e) {
        onError(e)
      }
    }
  }

  let pending: { subject: string; data: Uint8Array }[] = []
  let scheduled = false
  const drain = () => {
    scheduled = false
    const batch = pending
    pending = []
    for (const m of batch) deliver(m.subject, m.data)
  }

  const bus: Bus & { readonly hub: MemoryHub } = {
    hub,
    get status() {
      return closed ? 'closed' : 'connected'
    },
    publish(subject, data) {
      if (closed) throw new Error('memory bus is closed')
      // Copy: the publisher may reuse its buffer, as with a network bus.
      pending.push({ subject, data: new Uint8Array(data) })
      if (!scheduled) {
        scheduled = true
        queueMicrotask(drain)
      }
    },
    subscribe(subject, handler): BusSubscription {
      if (closed) throw new Error('memory bus is closed')
      const wild = subject.includes('*') || subject.includes('>')
      const tokens = wild ? subject.split('.') : undefined
      const sub = new Sub(subject, handler, tokens && (tokens.includes('*') || tokens.includes('>')) ? tokens : undefined, owner)
      hub.add(sub)
      return sub
    },
    async flush() {
      await new Promise<void>((r) => queueMicrotask(r))
    },
    async close() {
      if (closed) return
      await bus.flush()
      closed = true
      for (const sub of hub.of(owner)) sub.unsubscribe()
    },
  }
  return bus
}
