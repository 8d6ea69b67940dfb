import WebSocket from 'ws'
import { createClient } from '@rt/client'
import { historyContract, type HistoryTopic, type Pub } from './contract.js'

/** What `onSubscribed` reported, and how many publications the stream had delivered by then. */
export interface SubscribedInfo {
  recovered: boolean
  wasRecovering: boolean
  offset: number
  epoch: string
  /** Index in `got` of the next delivery after this ack. */
  at: number
}

/** One delivered publication: its position and which publisher sent it. */
export interface Delivered {
  offset: number
  epoch: string
  id: string
}

export interface StreamRecord {
  topic: HistoryTopic
  room: string
  got: Delivered[]
  infos: SubscribedInfo[]
}

/** A `ws` class per client that remembers its live socket, so a test can cut it like a dead network. */
function trackedWebSocket() {
  let current: WebSocket | undefined
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url)
      current = this
    }
  }
  return {
    WebSocket: Tracked,
    /** Terminates the live socket (no close frame); false when there is none open. */
    kill(): boolean {
      const s = current
      if (!s || s.readyState !== WebSocket.OPEN) return false
      s.terminate()
      return true
    },
  }
}

/** A history client that records every delivery and every `onSubscribed` per stream; `url` is asked before each attempt. */
export function historyClient(name: string, url: () => string, reconnect = { minDelayMs: 10, maxDelayMs: 100 }) {
  const socket = trackedWebSocket()
  const client = createClient(historyContract, {
    url,
    role: 'user',
    auth: { name },
    WebSocket: socket.WebSocket,
    reconnect,
    callTimeoutMs: 5_000,
  })
  const streams: StreamRecord[] = []
  const errors: unknown[] = []
  return {
    name,
    client,
    streams,
    errors,
    kill: socket.kill,
    /** Subscribes and records; resolves once the first ack came. */
    async follow(topic: HistoryTopic, room: string, since?: { offset: number; epoch: string }) {
      const rec: StreamRecord = { topic, room, got: [], infos: [] }
      streams.push(rec)
      const sub = client.subscribe(topic, { room }, (msg: Pub, meta: { offset?: number; epoch?: string }) => rec.got.push({ offset: meta.offset!, epoch: meta.epoch!, id: `${msg.node}:${msg.seq}` }), {
        onSubscribed: (info: Omit<SubscribedInfo, 'at'>) => rec.infos.push({ ...info, at: rec.got.length }),
        onError: (e: unknown) => errors.push(e),
        ...(since && { since }),
      })
      const info = await sub.ready
      return { rec, sub, info }
    },
    async close() {
      await client.close()
    },
  }
}

export type HistoryClient = ReturnType<typeof historyClient>
