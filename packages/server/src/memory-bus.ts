import type { Bus, BusSubscription } from '@rt/contract'

type Handler = (data: Uint8Array, subject: string) => void

/** The shared medium of in-memory buses: what a NATS server is to NATS buses. */
export interface MemoryHub {
  /** Live subscriptions across every bus on this hub. */
  readonly subscriptionCount: number
}

interface HubState extends MemoryHub {
  exact: Map<string, Set<Handler>>
  patterns: Map<Handler, string[]>
}

/** Creates a hub that several in-memory buses (one per node) share. */
export function createMemoryHub(): MemoryHub {
  const hub: HubState = {
    exact: new Map(),
    patterns: new Map(),
    get subscriptionCount() {
      let n = this.patterns.size
      for (const set of this.exact.values()) n += set.size
      return n
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
  /** Receives errors thrown by subscription handlers. @default writes to stderr */
  onError?: (error: unknown) => void
}

/**
 * The embedded default bus: one process, no network. Several servers given buses on one hub
 * behave as a cluster, which is how multi-node behaviour is tested without NATS.
 * Delivery is asynchronous (a microtask later) and in publish order, as on a real bus.
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus & { readonly hub: MemoryHub } {
  const hub = (options.hub ?? createMemoryHub()) as HubState
  const onError = options.onError ?? ((e: unknown) => void process.stderr.write(`[@rt/server] memory bus handler threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`))
  const mine = new Set<{ subject: string; handler: Handler }>()
  let closed = false

  const deliver = (subject: string, data: Uint8Array) => {
    const tokens = subject.split('.')
    const targets: Handler[] = [...(hub.exact.get(subject) ?? [])]
    for (const [h, p] of hub.patterns) if (matches(p, tokens)) targets.push(h)
    if (targets.length === 0) return
    for (const h of targets) {
      try {
        // Each subscriber gets its own copy, as over a network.
        h(targets.length === 1 ? data : new Uint8Array(data), subject)
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
      // Wrap so the same function subscribed twice is two subscriptions.
      const h: Handler = (d, s) => handler(d, s)
      const entry = { subject, handler: h }
      mine.add(entry)
      const tokens = subject.split('.')
      if (tokens.includes('*') || tokens.includes('>')) hub.patterns.set(h, tokens)
      else {
        let set = hub.exact.get(subject)
        if (!set) hub.exact.set(subject, (set = new Set()))
        set.add(h)
      }
      let active = true
      return {
        unsubscribe() {
          if (!active) return
          active = false
          mine.delete(entry)
          hub.patterns.delete(h)
          const set = hub.exact.get(subject)
          if (set?.delete(h) && set.size === 0) hub.exact.delete(subject)
        },
      }
    },
    async flush() {
      await new Promise<void>((r) => queueMicrotask(r))
    },
    async close() {
      if (closed) return
      await bus.flush()
      closed = true
      for (const { subject, handler } of mine) {
        hub.patterns.delete(handler)
        const set = hub.exact.get(subject)
        if (set?.delete(handler) && set.size === 0) hub.exact.delete(subject)
      }
      mine.clear()
    },
  }
  return bus
}
