import type { NatsConnection } from '@nats-io/transport-node'
import type { BusStatus } from '@rt/contract'

export interface StatusSink {
  status(status: BusStatus): void
  error(error: unknown): void
  /** The connection closed, whoever closed it. */
  closed(): void
}

/** Feeds a connection's `status()` events into `sink`; returns a function that stops watching. */
export function watchStatus(nc: NatsConnection, sink: StatusSink): () => void {
  const events = nc.status()
  let watching = true
  void (async () => {
    for await (const s of events) {
      if (!watching) break
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') sink.status('reconnecting')
      else if (s.type === 'reconnect') sink.status('connected')
      else if (s.type === 'error') sink.error(s.error)
    }
  })().catch(sink.error)
  void nc.closed().then((err) => {
    if (!watching) return
    if (err) sink.error(err)
    sink.closed()
  })
  return () => {
    watching = false
    // nats.js's status iterator has stop(); without it the loop just ends at the next event.
    ;(events as { stop?: () => void }).stop?.()
  }
}
