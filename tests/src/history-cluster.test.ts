import { afterAll, describe, expect, it } from 'vitest'
import { connect as connectNats } from '@nats-io/transport-node'
import { until } from './harness.js'
import { freePort, startNatsCluster, type NatsCluster } from './nats/nats-server.js'
import { spawnNode } from './spawn.js'
import { historyClient } from './history/history-client.js'
import { natsHistoryNodes, natsPrefix } from './history/nats-nodes.js'
import { checkNoSilentGap, PubLog, type StreamId } from './history/pub-log.js'
import { streamLeader } from './history/jetstream.js'
import { badPositions, historyOf, publishMany } from './history/scenarios.js'
import { converged, publishers, stormClients } from './history/storm.js'

let shared: Promise<NatsCluster> | undefined
const cluster = () => (shared ??= startNatsCluster(3, { jetstream: true }))
afterAll(async () => {
  if (shared) await (await shared)[Symbol.asyncDispose]()
})

describe('topic history across a real 3-server NATS cluster with JetStream', () => {
  it('failover: clients on node A, publisher on node B, A SIGKILLed; the clients land on node C and recover everything from JetStream', async () => {
    const { urls } = await cluster()
    const prefix = natsPrefix()
    await using a = await spawnNode<{ port: number; nodeId: string }>('history/child-history-node.ts', [], { RT_NATS_URL: urls[0]!, RT_NATS_PREFIX: prefix })
    await using bc = await natsHistoryNodes([urls[1]!, urls[2]!], prefix)
    const [b, c] = bc.nodes as [(typeof bc.nodes)[0], (typeof bc.nodes)[0]]
    const dead = `ws://127.0.0.1:${await freePort()}`
    let released = false
    const streams: StreamId[] = ['x', 'y'].map((room) => ({ topic: 'feed', room }))
    const clients = [0, 1, 2].map((i) => {
      let first = true
      return historyClient(`m${i}`, () => (first ? ((first = false), `ws://127.0.0.1:${a.info.port}`) : released ? c.url : dead))
    })
    try {
      await Promise.all(clients.map((cl) => Promise.all(streams.map((s) => cl.follow(s.topic, s.room)))))
      expect(clients.map((cl) => cl.client.nodeId)).toEqual(clients.map(() => a.info.nodeId))
      const log = new PubLog()
      const pub = publishers([b], streams, 10, log)
      await until(() => clients.every((cl) => cl.streams.every((r) => r.got.length >= 5)), 5_000, 'live publications through node A')
      a.child.kill('SIGKILL')
      // Held off while node B keeps publishing, so there is something to recover.
      const atKill = log.published
      await until(() => log.published >= atKill + 20, 5_000, 'publications while the clients are away')
      released = true
      await until(() => clients.every((cl) => cl.client.state === 'open' && cl.client.nodeId === c.srv.nodeId), 10_000, 'clients on node C')
      const landed = log.published
      await until(() => log.published >= landed + 10, 5_000, 'more live publications')
      await pub.stop()
      await converged(clients, log, 10_000, 'clients to catch up on node C')
      expect(log.failures).toEqual([])
      expect(log.conflicts).toEqual([])
      expect(clients.flatMap((cl) => cl.streams.flatMap((r) => log.checkComplete(cl.name, r)))).toEqual([])
      const replayed = clients.flatMap((cl) =>
        cl.streams.map((r) => {
          const back = r.infos[1]!
          return back.offset - (r.got[back.at - 1]?.offset ?? 0)
        }),
      )
      console.log('failover', JSON.stringify({ published: log.published, replayed }))
      // Every stream of every client had publications to recover after the kill (20 were published meanwhile).
      expect(replayed.every((n) => n >= 5)).toBe(true)
      expect(clients.flatMap((cl) => cl.streams.map((r) => r.infos.length))).toEqual(clients.flatMap(() => [2, 2]))
      for (const n of bc.nodes) expect(n.errors).toEqual([])
    } finally {
      await Promise.all(clients.map((cl) => cl.close()))
    }
  })

  it('bad positions: wrong epoch and future offset → recovered: false on every node, malformed → BAD_REQUEST, never a crash', async () => {
    await using c = await natsHistoryNodes((await cluster()).urls)
    await badPositions(c.nodes, 'bad')
  })

  it('storage lost (the JetStream stream deleted under the nodes): clients holding positions of the old epoch are told recovered: false and continue in the new one', { timeout: 60_000 }, async () => {
    const nats = await cluster()
    const prefix = natsPrefix()
    await using c = await natsHistoryNodes(nats.urls, prefix)
    const s: StreamId = { topic: 'feed', room: 'life' }
    const dead = `ws://127.0.0.1:${await freePort()}`
    let away = false
    const clients = [0, 1, 2].map((i) => historyClient(`l${i}`, () => (away ? dead : c.nodes[i]!.url)))
    const admin = await connectNats({ servers: nats.urls[0]! })
    try {
      await Promise.all(clients.map((cl) => cl.follow(s.topic, s.room)))
      const log = new PubLog()
      await publishMany(log, c.nodes, s, 5)
      await converged(clients, log, 5_000, 'first life delivered')
      const old = (await historyOf(c.nodes[0]!, s, 0)).epoch
      away = true
      for (const cl of clients) cl.kill()
      await until(() => clients.every((cl) => cl.client.state !== 'open'), 5_000, 'clients away')
      const deleted = JSON.parse((await admin.request(`$JS.API.STREAM.DELETE.${prefix}_history_5000`, '', { timeout: 5_000 })).string()) as { success?: boolean }
      expect(deleted.success).toBe(true)
      const next = new PubLog()
      await publishMany(next, c.nodes, s, 2)
      const life = await historyOf(c.nodes[2]!, s, 0)
      expect(life.epoch).not.toBe(old)
      expect(life.offset).toBe(2)
      away = false
      // The answer that matters is the first in the new life. A loaded machine can add reconnects of
      // its own before the deletion (a heartbeat missed for a second): those recover in the old life.
      const back = (r: (typeof clients)[number]['streams'][number]) => r.infos.slice(1).findIndex((i) => i.epoch === life.epoch)
      await until(() => clients.every((cl) => cl.client.state === 'open' && back(cl.streams[0]!) >= 0), 20_000, 'clients back')
      await next.publish(c.nodes[1]!, 1, 99, s)
      await until(() => clients.every((cl) => cl.streams[0]!.got.length === 6), 20_000, 'the first live publication of the new life')
      for (const cl of clients) {
        const r = cl.streams[0]!
        const i = back(r)
        expect(r.infos[i + 1]).toMatchObject({ wasRecovering: true, recovered: false, offset: 2, epoch: life.epoch })
        for (const before of r.infos.slice(1, i + 1)) expect(before, cl.name).toMatchObject({ wasRecovering: true, recovered: true, epoch: old })
        expect(r.got.map((g) => [g.offset, g.epoch === old ? 'old' : g.epoch === life.epoch ? 'new' : g.epoch])).toEqual([[1, 'old'], [2, 'old'], [3, 'old'], [4, 'old'], [5, 'old'], [3, 'new']])
        expect(checkNoSilentGap(cl.name, r)).toEqual([])
      }
      expect([...log.failures, ...next.failures, ...log.conflicts, ...next.conflicts]).toEqual([])
      for (const n of c.nodes) expect(n.errors).toEqual([])
    } finally {
      await admin.close()
      await Promise.all(clients.map((cl) => cl.close()))
    }
  })

  // Last in this file: it restarts a server of the shared cluster.
  it('a NATS server restarted during publishing (file storage, 3 replicas): recovery still complete, nothing lost, nothing twice', { timeout: 45_000 }, async () => {
    const nats = await cluster()
    // R3 on file storage: the stream keeps its quorum (2 of 3) while one server is down, and the restarted one catches up from its -sd dir.
    const prefix = natsPrefix()
    await using c = await natsHistoryNodes(nats.urls, prefix, { replicas: 3, storage: 'file' })
    const streams: StreamId[] = ['p', 'q'].map((room) => ({ topic: 'feed', room }))
    // Nine clients subscribing on three nodes at once: the first reads also create the R3 stream concurrently.
    const clients = await stormClients(c.nodes, 9, streams)
    // The server to restart: the one leading the stream (feed has size 5 000: one JetStream stream per size).
    const leader = await until(async () => 1 + (await streamLeader(nats, `${prefix}_history_5000`)), 5_000, 'stream leader').then((i) => i - 1)
    try {
      const log = new PubLog()
      const pub = publishers(c.nodes, streams, 20, log)
      await until(() => log.published >= 60, 5_000, 'publishing under way')
      await nats.servers[leader]!.restart()
      await nats.routed()
      const back = log.published
      await until(() => log.published >= back + 60, 15_000, 'publishing after the restart')
      await pub.stop()
      // A publication lost on the bus while a node's link was down shows as a hole only at the next one.
      for (const s of streams) await log.publish(c.nodes[0]!, 0, 0, s)
      await converged(clients, log, 15_000, 'clients to catch up after the restart')
      console.log('nats restart', JSON.stringify({ failures: log.failures.map(String), conflicts: log.conflicts, leader, published: log.published, failed: log.failed, gaps: log.gaps(), acks: clients.reduce((a, cl) => a + cl.streams.reduce((b, r) => b + r.infos.length - 1, 0), 0) }))
      expect(log.conflicts).toEqual([])
      // A publish that failed (the restarted server's node, while its link was down) may still have been stored.
      expect(log.gaps().length).toBeLessThanOrEqual(log.failed)
      expect(clients.flatMap((cl) => cl.streams.flatMap((r) => log.checkComplete(cl.name, r)))).toEqual([])
    } finally {
      await Promise.all(clients.map((cl) => cl.close()))
    }
  })
})
