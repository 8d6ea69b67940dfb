import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { RtError, type Bus, type BusStatus, type BusSubscription } from '@rt/contract'
import { connectWithRetry } from './connect-with-retry.js'
import { createJetStreamHistory, type NatsHistory, type NatsHistoryOptions } from './jetstream-history.js'
import { watchStatus } from './watch-status.js'

interface CommonOptions {
  /** Prepended to every subject as `${prefix}.`, so several apps can share one NATS; `''` for none. @default 'rt' */
  prefix?: string
  /** Receives NATS errors and errors thrown by subscription handlers. @default writes them to stderr */
  onError?: (error: unknown) => void
  /** Where `bus.history` keeps topic history in JetStream (streams are created on first use). @default one file stream per topic size, 1 replica */
  history?: NatsHistoryOptions
}

/** Options of {@link createNatsBus}: servers to connect to, or a connection you own. */
export type NatsBusOptions = CommonOptions &
  (
    | {
        /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
        servers: string | string[]
        /** Client name shown by the server's monitoring pages. @default none */
        name?: string
        /** Delay between reconnect attempts to one server. @default 2000 */
        reconnectTimeWaitMs?: number
      }
    | {
        /** A connection you created and keep: `close()` leaves it open. */
        connection: NatsConnection
      }
  )

/** A `Bus` over core NATS, with its link state. */
export interface NatsBus extends Bus {
  readonly status: BusStatus
  onStatus(listener: (status: BusStatus) => void): () => void
  /** Topic history in JetStream, shared by every node on this NATS; created on first use. */
  readonly history: NatsHistory
}

/** Publishes queued before the first connection stop being kept beyond this many bytes. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024

interface LiveSub {
  subject: string
  handler: (data: Uint8Array, subject: string) => void
  sub: Subscription | undefined
  active: boolean
}

function defaultOnError(error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
  process.stderr.write(`[@rt/bus-nats] ${detail}\n`)
}

/**
 * Creates a `Bus` over core NATS. It connects at once and may be used at once: what is
 * published or subscribed before the first connection is queued and applied in order.
 */
export function createNatsBus(options: NatsBusOptions): NatsBus {
  const prefix = options.prefix ?? 'rt'
  const cut = prefix === '' ? 0 : prefix.length + 1
  const full = (subject: string) => (prefix === '' ? subject : `${prefix}.${subject}`)
  const report = options.onError ?? defaultOnError
  const owned = !('connection' in options)
  const listeners = new Set<(status: BusStatus) => void>()
  const subs = new Set<LiveSub>()
  let nc: NatsConnection | undefined
  let status: BusStatus = owned ? 'reconnecting' : 'connected'
  let closed = false
  let closing: Promise<void> | undefined
  let queue: ((c: NatsConnection) => void)[] = []
  let queuedBytes = 0
  let overflowReported = false
  let stopWatching = () => {}
  const stop = new AbortController()

  const setStatus = (next: BusStatus) => {
    if (status === next || status === 'closed') return
    status = next
    for (const l of [...listeners]) {
      try {
        l(next)
      } catch (e) {
        report(e)
      }
    }
  }

  const send = (c: NatsConnection, subject: string, data: Uint8Array) => {
    try {
      c.publish(full(subject), data)
    } catch (e) {
      report(e) // e.g. over the server's max_payload
    }
  }

  const attach = (c: NatsConnection, live: LiveSub) => {
    if (!live.active) return
    try {
      live.sub = c.subscribe(full(live.subject), {
        callback: (err, msg) => {
          if (err) return report(err)
          if (!live.active) return
          try {
            live.handler(msg.data, msg.subject.slice(cut))
          } catch (e) {
            report(e) // a throw would reach nats.js's parser and break the connection
          }
        },
      })
    } catch (e) {
      report(e)
    }
  }

  const up = (c: NatsConnection) => {
    nc = c
    stopWatching = watchStatus(c, { status: setStatus, error: report, closed: () => setStatus('closed') })
    setStatus('connected')
    const ops = queue
    queue = []
    queuedBytes = 0
    for (const op of ops) op(c)
  }

  const connecting: Promise<NatsConnection | undefined> =
    'connection' in options
      ? Promise.resolve(options.connection)
      : connectWithRetry(
          {
            servers: options.servers,
            maxReconnectAttempts: -1,
            reconnectTimeWait: options.reconnectTimeWaitMs ?? 2_000,
            ...(options.name === undefined ? {} : { name: options.name }),
          },
          stop.signal,
          report,
        )
  if ('connection' in options) up(options.connection)
  else void connecting.then((c) => c && !closed && up(c))

  async function shutdown(): Promise<void> {
    const linkUp = status === 'connected'
    for (const live of subs) live.active = false // nothing is delivered once close() is called
    queue = []
    setStatus('closed')
    const c = await connecting
    if (!c) return
    if (!owned) {
      for (const live of subs) {
        try {
          live.sub?.unsubscribe()
        } catch {
          // the owner closed the connection already
        }
      }
      subs.clear()
      stopWatching()
      if (!c.isClosed()) await c.flush().catch(() => {})
      return
    }
    subs.clear()
    if (c.isClosed()) return
    // drain() flushes pending publishes but needs the link; a link that is down has nothing to flush.
    if (linkUp) await c.drain().catch(() => c.close().catch(() => {}))
    else await c.close().catch(() => {})
  }

  let history: NatsHistory | undefined
  const connection = async () => {
    const c = nc ?? (await connecting)
    if (!c || closed) throw new RtError('UNAVAILABLE', 'nats bus is closed')
    return c
  }

  return {
    get history() {
      return (history ??= createJetStreamHistory(connection, prefix, options.history))
    },
    get status() {
      return status
    },
    onStatus(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    publish(subject, data) {
      if (closed) throw new Error('nats bus is closed')
      if (nc) {
        // Core NATS has no replay: while the link is down, a publish is dropped (at-most-once).
        if (status !== 'connected') return
        send(nc, subject, new Uint8Array(data)) // copy: nats.js keeps a reference until it writes
        return
      }
      if (queuedBytes + data.byteLength > MAX_QUEUED_BYTES) {
        if (!overflowReported) report(new RtError('UNAVAILABLE', 'NATS not connected yet: queue full, publishes dropped'))
        overflowReported = true
        return
      }
      const copy = new Uint8Array(data)
      queuedBytes += copy.byteLength
      queue.push((c) => send(c, subject, copy))
    },
    subscribe(subject, handler): BusSubscription {
      if (closed) throw new Error('nats bus is closed')
      const live: LiveSub = { subject, handler, sub: undefined, active: true }
      subs.add(live)
      if (nc) attach(nc, live)
      else queue.push((c) => attach(c, live))
      return {
        unsubscribe() {
          if (!live.active) return
          live.active = false
          subs.delete(live)
          try {
            live.sub?.unsubscribe()
          } catch {
            // the connection is closed: nothing to undo
          }
        },
      }
    },
    async flush() {
      if (closed) return closing
      const c = nc ?? (await connecting)
      if (!c || closed) return
      try {
        await c.flush()
      } catch (e) {
        throw new RtError('CONNECTION_LOST', 'NATS link dropped before flush completed', undefined, { cause: e })
      }
    },
    close() {
      if (!closed) {
        closed = true
        stop.abort()
        void history?.close()
        closing = shutdown()
      }
      return closing!
    },
  }
}
