import { randomBytes } from 'node:crypto'
import { createNatsBus, type NatsBusOptions } from '@rt/bus-nats'
import { startHistoryNode, type HistoryNode } from './node.js'

export const natsPrefix = () => `h${randomBytes(4).toString('hex')}`

type HistoryConfig = NatsBusOptions extends { history?: infer H } ? H : never

/** One @rt node per NATS server url, each with its NATS bus and that bus's JetStream store (`bus.history`). */
export async function natsHistoryNodes(urls: string[], prefix = natsPrefix(), history?: HistoryConfig) {
  const buses = urls.map((servers) => createNatsBus({ servers, prefix, reconnectTimeWaitMs: 100, ...(history && { history }) } as NatsBusOptions))
  const nodes: HistoryNode[] = await Promise.all(buses.map((bus) => startHistoryNode({ bus })))
  return {
    nodes,
    buses,
    prefix,
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()))
      await Promise.all(buses.map((b) => b.close()))
    },
  }
}
