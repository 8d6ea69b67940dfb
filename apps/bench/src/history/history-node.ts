// The @rt node of the history benchmark, in a process of its own (so its CPU is its own): one
// server on the in-memory bus and store, or on NATS and its JetStream store (argv[2]: { nats? }),
// the store wrapped to count its reads.
import type { HistoryStore } from '@rt/contract'
import { createNatsBus } from '@rt/bus-nats'
import { createMemoryHistory, createServer } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { announce, serveIpc } from '../wire/ipc.js'
import { nowMs } from '../storm/buckets.js'
import { historyContract, type HistoryTopic } from './history-contract.js'

const { nats } = JSON.parse(process.argv[2] ?? '{}') as { nats?: string }
const bus = nats ? createNatsBus({ servers: nats, prefix: 'bench' }) : undefined
const inner: HistoryStore = bus ? bus.history : createMemoryHistory()
let reads = 0
const store: HistoryStore = {
  append: (stream, data, options) => inner.append(stream, data, options),
  read: (stream, options) => {
    reads++
    return inner.read(stream, options)
  },
  close: () => inner.close(),
}

const srv = createServer({
  contract: historyContract,
  transport: createWsTransport({ port: 0, host: '127.0.0.1' }),
  history: store,
  ...(bus && { bus }),
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: {},
  // The load clients subscribe to many streams at once, far above the per-connection defaults.
  limits: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
})
const { port } = await srv.listen()
const users = srv.forRole('user')

export interface PublishArgs {
  topic: HistoryTopic
  rooms: string[]
  /** Publications per room. */
  count: number
  /** Publications per event-loop turn (over all rooms). */
  perTurn: number
}

/** Publishes `count` ticks to every room, `perTurn` per event-loop turn; history publishes are awaited per turn. */
async function publish(a: PublishArgs) {
  const cpu0 = process.cpuUsage()
  const t0 = nowMs()
  let sent = 0
  const total = a.count * a.rooms.length
  while (sent < total) {
    const turn: Promise<unknown>[] = []
    for (let i = 0; i < a.perTurn && sent < total; i++, sent++) {
      const room = a.rooms[sent % a.rooms.length]!
      const seq = Math.floor(sent / a.rooms.length) + 1
      const r = users.publish(a.topic, { ts: nowMs(), seq }, { room }) as unknown
      if (r instanceof Promise) turn.push(r)
    }
    await Promise.all(turn)
    await new Promise((r) => setImmediate(r))
  }
  const cpu = process.cpuUsage(cpu0)
  return { at: t0, ms: nowMs() - t0, cpuUs: cpu.user + cpu.system }
}

serveIpc({
  publish,
  cpu: () => {
    const c = process.cpuUsage()
    return c.user + c.system
  },
  reads: () => reads,
  connections: () => srv.connections.size,
  async exit() {
    await srv.close()
    setImmediate(() => process.exit(0))
  },
})
process.on('SIGTERM', () => process.exit(0))
announce({ port, pid: process.pid })
