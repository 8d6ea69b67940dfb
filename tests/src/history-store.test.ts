import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { createNatsBus, type NatsBus } from '@rt/bus-nats'
import { createMemoryHistory } from '@rt/server'
import { sleep, until } from './harness.js'
import { startNatsCluster, startNatsServer, type NatsCluster, type NatsServer } from './nats/nats-server.js'
import { describeHistoryStore } from './suites/history-store.js'

describeHistoryStore('memory', async () => {
  const made = [createMemoryHistory()]
  return {
    stores: [made[0]!],
    reset: async () => {
      const fresh = createMemoryHistory()
      made.push(fresh)
      return fresh
    },
    cleanup: async () => void (await Promise.all(made.map((s) => s.close()))),
  }
})

let server: Promise<NatsServer> | undefined
const nats = () => (server ??= startNatsServer({ jetstream: true }))
afterAll(async () => {
  if (server) await (await server)[Symbol.asyncDispose]()
})

/** Deletes every JetStream stream whose name starts with `stem`: the storage is lost. */
async function deleteStreams(nc: NatsConnection, stem: string): Promise<void> {
  const res = await nc.request('$JS.API.STREAM.NAMES', JSON.stringify({ subject: '' }))
  const { streams } = res.json<{ streams: string[] | null }>()
  for (const s of streams ?? []) if (s.startsWith(stem)) await nc.request(`$JS.API.STREAM.DELETE.${s}`)
}

// Three buses, three NATS connections: three nodes appending to one JetStream.
describeHistoryStore('JetStream (3 connections)', async () => {
  const { url } = await nats()
  const prefix = `h${randomBytes(4).toString('hex')}`
  const buses: NatsBus[] = [0, 1, 2].map(() => createNatsBus({ servers: url, prefix, onError: () => {} }))
  const admin = await connect({ servers: url })
  return {
    stores: buses.map((b) => b.history),
    reset: async () => {
      await deleteStreams(admin, `${prefix}_history`)
      const b = createNatsBus({ servers: url, prefix, onError: () => {} })
      buses.push(b)
      return b.history
    },
    cleanup: async () => {
      await Promise.all(buses.map((b) => b.close()))
      await admin.close()
    },
  }
})

let cluster: Promise<NatsCluster> | undefined
afterAll(async () => {
  if (cluster) await (await cluster)[Symbol.asyncDispose]()
})

// Three nodes on three servers of a JetStream cluster, one replicated (R3) stream per size.
describeHistoryStore('JetStream R3 (3-server cluster)', async () => {
  const { urls } = await (cluster ??= startNatsCluster(3, { jetstream: true }))
  const prefix = `h${randomBytes(4).toString('hex')}`
  const make = (servers: string) => createNatsBus({ servers, prefix, onError: () => {}, history: { replicas: 3 } })
  const buses: NatsBus[] = urls.map(make)
  const admin = await connect({ servers: urls })
  return {
    stores: buses.map((b) => b.history),
    reset: async () => {
      await deleteStreams(admin, `${prefix}_history`)
      const b = make(urls[1]!)
      buses.push(b)
      return b.history
    },
    cleanup: async () => {
      await Promise.all(buses.map((b) => b.close()))
      await admin.close()
    },
  }
})

describe('JetStream history layout', () => {
  it('keeps one stream per topic size under the bus prefix, with the options given, and survives a server restart', async () => {
    await using srv = await startNatsServer({ jetstream: true })
    const prefix = `h${randomBytes(4).toString('hex')}`
    const bus = createNatsBus({ servers: srv.url, prefix, reconnectTimeWaitMs: 50, onError: () => {}, history: { stream: 'chat', replicas: 1, storage: 'file' } })
    const admin = await connect({ servers: srv.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 })
    try {
      const h = { size: 25 }
      const a = await bus.history.append('app.room.r1', new TextEncoder().encode('"hi"'), h)
      expect(a.offset).toBe(1)
      const info = (await admin.request('$JS.API.STREAM.INFO.chat_25')).json<{ config: Record<string, unknown> }>()
      expect(info.config).toMatchObject({ subjects: [`${prefix}.hist.25.>`], max_msgs_per_subject: 25, storage: 'file', num_replicas: 1, discard: 'old' })
      const seen: string[] = []
      bus.onStatus((st) => void seen.push(st))
      await srv.restart()
      await until(() => seen.includes('reconnecting') && bus.status === 'connected', 10_000)
      const r = await bus.history.read('app.room.r1', { limit: 25, history: h })
      expect(r.top).toEqual(a)
      expect(r.publications.map((p) => new TextDecoder().decode(p.data))).toEqual(['"hi"'])
      expect(await bus.history.append('app.room.r1', new TextEncoder().encode('"again"'), h)).toEqual({ offset: 2, epoch: a.epoch })
    } finally {
      await bus.close()
      await admin.close()
    }
  })

  it('with maxAgeMs, a stream whose publications all expired starts a new epoch instead of reusing offsets', async () => {
    const { url } = await nats()
    const bus = createNatsBus({ servers: url, prefix: `h${randomBytes(4).toString('hex')}`, onError: () => {}, history: { maxAgeMs: 300 } })
    try {
      const h = { size: 10 }
      const first = await bus.history.append('app.t.k', new TextEncoder().encode('1'), h)
      expect((await bus.history.append('app.t.k', new TextEncoder().encode('2'), h)).epoch).toBe(first.epoch)
      await sleep(800) // NATS removes both messages
      const empty = await bus.history.read('app.t.k', { limit: 10, history: h })
      expect(empty.top.offset).toBe(0)
      expect(empty.top.epoch).not.toBe(first.epoch)
      const next = await bus.history.append('app.t.k', new TextEncoder().encode('3'), h)
      expect(next.offset).toBe(1)
      expect(next.epoch).not.toBe(first.epoch)
    } finally {
      await bus.close()
    }
  })
})
