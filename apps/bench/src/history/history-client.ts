// Load process of the history benchmark: real @rt clients (the client's own resubscription and
// ordering are part of what is measured). Each client holds the given streams and counts, per
// stream, what it receives and whether it came in offset order, exactly once.
import WebSocket from 'ws'
import { createClient, type Client } from '@rt/client'
import { sleep } from '../wire/clock.js'
import { announce, serveIpc } from '../wire/ipc.js'
import { nowMs } from '../storm/buckets.js'
import { historyContract, type HistoryTopic } from './history-contract.js'

/** While true, every new connection goes to a closed port: the network is gone. */
let offline = false
const sockets = new Set<WebSocket>()
class GatedWebSocket extends WebSocket {
  constructor(url: string) {
    super(offline ? 'ws://127.0.0.1:1' : url, { perMessageDeflate: false })
    sockets.add(this)
    this.once('close', () => sockets.delete(this))
  }
}

interface Stream {
  topic: HistoryTopic
  room: string
  /** Publications received since the last `mark`. */
  count: number
  lastSeq: number
  lastOffset: number
  /** A seq that was not lastSeq + 1 (a duplicate, a gap or a reordering). */
  disorder: number
  /** When `count` reached the awaited number. */
  doneAt: number
  /** onSubscribed of the resubscriptions since the last `mark`. */
  recovered: number
  notRecovered: number
  /** When the last resubscription was answered. */
  ackAt: number
}

interface Held {
  client: Client<typeof historyContract, 'user'>
  streams: Stream[]
}
let held: Held[] = []
let awaited = Infinity

export interface HistoryConnectArgs {
  url: string
  count: number
  /** Index of this process's first client, to spread clients over rooms. */
  first: number
  /** Each client i subscribes to these topics in room `${prefix}${(first + i) % rooms}`. */
  topics: HistoryTopic[]
  prefix: string
  rooms: number
  concurrency: number
  reconnect?: { minDelayMs: number; maxDelayMs: number }
}

async function connect(a: HistoryConnectArgs) {
  const t0 = nowMs()
  for (let i = 0; i < a.count; i += a.concurrency) {
    const batch = Array.from({ length: Math.min(a.concurrency, a.count - i) }, (_, j) => {
      const client = createClient(historyContract, {
        url: a.url,
        role: 'user',
        WebSocket: GatedWebSocket as never,
        ...(a.reconnect && { reconnect: a.reconnect }),
      })
      const room = `${a.prefix}${(a.first + i + j) % a.rooms}`
      const streams = a.topics.map((topic): Stream => ({ topic, room, count: 0, lastSeq: 0, lastOffset: 0, disorder: 0, doneAt: 0, recovered: 0, notRecovered: 0, ackAt: 0 }))
      const readies = streams.map((s) => {
        const got = (t: { seq: number }, meta: { offset?: number | undefined }) => {
          if (t.seq !== s.lastSeq + 1) s.disorder++
          s.lastSeq = t.seq
          if (meta.offset !== undefined) s.lastOffset = meta.offset
          if (++s.count === awaited) s.doneAt = nowMs()
        }
        if (s.topic === 'plain') return client.subscribe('plain', { room }, got).ready
        let first = true
        return client.subscribe('hist', { room }, got, {
          onSubscribed: ({ recovered, wasRecovering }) => {
            if (first) return void (first = false)
            s.ackAt = nowMs()
            if (wasRecovering && recovered) s.recovered++
            else s.notRecovered++
          },
        }).ready
      })
      return { client, streams, ready: Promise.all(readies) }
    })
    held.push(...batch.map(({ client, streams }) => ({ client, streams })))
    await Promise.all(batch.map((b) => b.ready))
  }
  return { ready: held.filter((h) => h.client.state === 'open').length, ms: nowMs() - t0 }
}

const all = () => held.flatMap((h) => h.streams)

serveIpc({
  connect,
  /** Starts counting again: `expect` publications per stream of `topic` are awaited from now on. */
  mark({ expect, topic }: { expect: number; topic: HistoryTopic }) {
    awaited = expect
    for (const s of all()) if (s.topic === topic) Object.assign(s, { count: 0, lastSeq: 0, doneAt: 0, disorder: 0, recovered: 0, notRecovered: 0, ackAt: 0 })
    return null
  },
  /** The network goes: sockets drop, and reconnection attempts fail until `goOnline`. */
  goOffline() {
    offline = true
    for (const s of sockets) s.terminate()
    return { at: nowMs() }
  },
  goOnline() {
    offline = false
    return { at: nowMs() }
  },
  /** Waits until every stream of `topic` has `awaited` publications (or the timeout). */
  async wait({ topic, timeoutMs }: { topic: HistoryTopic; timeoutMs: number }) {
    const end = nowMs() + timeoutMs
    const streams = () => all().filter((s) => s.topic === topic)
    while (streams().some((s) => s.count < awaited) && nowMs() < end) await sleep(10)
    const ss = streams()
    return {
      streams: ss.length,
      complete: ss.filter((s) => s.count === awaited).length,
      received: ss.reduce((n, s) => n + s.count, 0),
      disorder: ss.reduce((n, s) => n + s.disorder, 0),
      recovered: ss.reduce((n, s) => n + s.recovered, 0),
      notRecovered: ss.reduce((n, s) => n + s.notRecovered, 0),
      lastAt: Math.max(0, ...ss.map((s) => s.doneAt)),
      lastAckAt: Math.max(0, ...ss.map((s) => s.ackAt)),
      doneAts: ss.map((s) => s.doneAt),
      open: held.filter((h) => h.client.state === 'open').length,
    }
  },
  async closeAll() {
    const h = held
    held = []
    await Promise.all(h.map((x) => x.client.close()))
    return { closed: h.length }
  },
  exit: () => void setImmediate(() => process.exit(0)),
})
process.on('SIGTERM', () => process.exit(0))
announce({ pid: process.pid })
