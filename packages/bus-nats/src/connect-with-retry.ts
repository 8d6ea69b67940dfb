import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node'
import { RtError } from '@rt/contract'

/**
 * Connects, retrying every `reconnectTimeWait` ms until it succeeds or `signal` aborts (then
 * resolves `undefined`). nats.js reconnects on its own only once it has connected once.
 */
export async function connectWithRetry(
  options: NodeConnectionOptions,
  signal: AbortSignal,
  report: (error: unknown) => void,
): Promise<NatsConnection | undefined> {
  let failures = 0
  while (!signal.aborted) {
    try {
      const nc = await connect(options)
      if (!signal.aborted) return nc
      await nc.close().catch(() => {})
    } catch (e) {
      // One report per outage, not one per attempt.
      if (failures++ === 0) report(new RtError('UNAVAILABLE', 'cannot reach NATS, retrying', undefined, { cause: e }))
      await sleep(options.reconnectTimeWait ?? 2_000, undefined, { signal }).catch(() => {})
    }
  }
  return undefined
}
