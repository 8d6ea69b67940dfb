import type { Bus } from '@rt/contract'

/** Wraps a node's bus and counts what that node receives, per subject (for interest-routing checks). */
export function countingBus<B extends Bus>(bus: B): B & { received: Map<string, number>; receivedMatching(prefix: string): number } {
  const received = new Map<string, number>()
  return Object.assign(Object.create(bus) as B, {
    received,
    receivedMatching: (prefix: string) => [...received].filter(([s]) => s.startsWith(prefix)).reduce((a, [, n]) => a + n, 0),
    publish: (subject: string, data: Uint8Array) => bus.publish(subject, data),
    subscribe: (subject: string, handler: (data: Uint8Array, subject: string) => void) =>
      bus.subscribe(subject, (data, s) => {
        received.set(s, (received.get(s) ?? 0) + 1)
        handler(data, s)
      }),
    flush: () => bus.flush(),
    close: () => bus.close(),
  })
}
