import { randomBytes } from 'node:crypto'
import { createNatsBus, type NatsBusOptions } from '@rt/bus-nats'
import { startHistoryNode, type HistoryNode } from './node.js'

export const natsPrefix = () => `h${randomBytes(4).toString('hex')}`

type HistoryConfig = NatsBusOptions extends { history?: infer H } ? H : never

/** One @rt node per NATS server url, each with its NATS bus and that bus's JetStream store (`bus.history`). */
export async function natsHistoryNodes(urls: string[], prefix = natsPrefix(), history?: HistoryConfig) {
  const buses = urls.map((servers) => createNatsBus({ servers, prefix, reconnectTimeWaitMs: 100, ...(history && { history }) } as NatsBusOptions))
  // A JetStream cluster that creates a stream again (after a deletion or a server restart) answers
  // once the new stream has a leader: on a loaded 2-core machine that election alone can take
  // longer than the server's default 5 s budget for a read. What these tests check is the answer
  // clients get, not that budget (packages/server/src/topics/topic-history.test.ts tests it with a slow store).
  const nodes: HistoryNode[] = await Promise.all(buses.map((bus) => startHistoryNode({ bus, recoveryTimeoutMs: 20_000 })))
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
