import type { Bus } from '@rt/contract'
import { BUS_KINDS, busKind } from './attrs.js'

type Handler = Parameters<Bus['subscribe']>[1]

/** Bus messages sent and received by this node, per subject kind (`BUS_KINDS`). */
export interface BusCounts {
  sent: number[]
  received: number[]
}

/**
 * The bus with its messages counted: plain array increments, read by observable instruments
 * at collection time, so a message costs no OpenTelemetry call. Everything else is the bus's.
 */
export function countingBus(bus: Bus): { bus: Bus; counts: BusCounts } {
  const counts: BusCounts = { sent: BUS_KINDS.map(() => 0), received: BUS_KINDS.map(() => 0) }
  // One counting wrapper per handler, not per subscription: the room registry subscribes every
  // room with the same handler, and a user's own room should not cost a closure.
  const counted = new WeakMap<Handler, Handler>()
  const wrap = (handler: Handler): Handler => {
    let w = counted.get(handler)
    if (!w) {
      w = (data, s) => {
        counts.received[busKind(s)]!++
        handler(data, s)
      }
      counted.set(handler, w)
    }
    return w
  }
  const wrapped: Bus & { readonly history?: unknown } = {
    publish(subject, data) {
      counts.sent[busKind(subject)]!++
      bus.publish(subject, data)
    },
    subscribe(subject, handler) {
      return bus.subscribe(subject, wrap(handler))
    },
    flush: () => bus.flush(),
    close: () => bus.close(),
    get status() {
      return bus.status ?? 'connected'
    },
    // The bus's own history store (e.g. JetStream), which the server looks for.
    get history() {
      return (bus as { history?: unknown }).history
    },
    ...(bus.onStatus && { onStatus: (listener: Parameters<NonNullable<Bus['onStatus']>>[0]) => bus.onStatus!(listener) }),
  }
  return { bus: wrapped, counts }
}
