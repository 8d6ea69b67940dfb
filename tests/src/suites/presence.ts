import { describe, expect, it } from 'vitest'
import type { Bus } from '@rt/contract'
import { connect, startServer, until, type TransportFactory } from '../harness.js'
import type { BusSet } from './cluster.js'

/** A node whose bus can be cut: to its peers it vanishes without a clean leave, as if it crashed. */
function cuttable(bus: Bus) {
  let cut = false
  const wrapped: Bus = {
    publish: (s, d) => void (cut || bus.publish(s, d)),
    subscribe: (s, h) => bus.subscribe(s, (d, x) => void (cut || h(d, x))),
    flush: () => bus.flush(),
    close: () => bus.close(),
  }
  return { bus: wrapped, cut: () => void (cut = true) }
}

/** Fast failure detection: for the tests of a node that dies. */
export const PRESENCE_CLUSTER = { heartbeatMs: 100, deadAfterMs: 500 }
/**
 * For the tests where every node stays up. A loaded 2-core machine can stall a node's event loop
 * for longer than 500 ms (a full test run, a GC pause); with `PRESENCE_CLUSTER` its peers would
 * then drop it and report its users offline and online again, which is right for a node that
 * went silent but is not what these tests are about.
 */
const STEADY_CLUSTER = { heartbeatMs: 100, deadAfterMs: 5_000 }

/** Presence and introspection on three nodes, written once for every bus. */
export function describePresence(name: string, makeBuses: BusSet, transport: TransportFactory) {
  async function cluster(config = STEADY_CLUSTER) {
    const { buses, cleanup } = await makeBuses()
    const cuts = buses.slice(0, 3).map((b) => cuttable(b))
    const events: string[][] = [[], [], []]
    const nodes = await Promise.all(cuts.map((c) => startServer(transport, { bus: c.bus, cluster: config })))
    nodes.forEach((n, i) => {
      n.srv.presence.on('online', (u) => events[i]!.push(`+${u}`))
      n.srv.presence.on('offline', (u) => events[i]!.push(`-${u}`))
    })
    await until(() => nodes.every((n) => n.srv.nodes().length === 3), 5_000, 'three nodes to see each other')
    const clients: { close(): Promise<void> }[] = []
    return {
      nodes,
      events,
      /** A fourth bus on the same medium, for a node that joins late. */
      spare: buses[3]!,
      crash: (i: number) => cuts[i]!.cut(),
      join(i: number, name: string, role: 'user' | 'agent' = 'user') {
        const c = connect(nodes[i]!.url, role, { auth: { name } })
        clients.push(c)
        return c
      },
      async [Symbol.asyncDispose]() {
        await Promise.all(clients.map((c) => c.close()))
        await Promise.all(nodes.map((n) => n.srv.close()))
        await cleanup()
      },
    }
  }

  describe(`presence over ${name}`, () => {
    it('a user connected on node A is visible from B and C', async () => {
      await using c = await cluster()
      const ann = c.join(0, 'ann')
      await ann.ready()
      for (const n of c.nodes) await until(async () => n.srv.presence.isOnline('ann'), 5_000, 'ann online everywhere')
      const seen = await c.nodes[2]!.srv.presence.user('ann')
      expect(seen).toEqual([{ connId: ann.connId, nodeId: c.nodes[0]!.srv.nodeId, role: 'user', since: expect.any(Number) }])
      expect(await c.nodes[1]!.srv.presence.count()).toEqual({ connections: 1, users: 1 })
      expect(await c.nodes[1]!.srv.presence.isOnline('bob')).toBe(false)
      expect(await c.nodes[2]!.srv.presence.users()).toEqual(['ann'])
      const listed = c.nodes[1]!.srv.nodes()
      expect(listed.map((n) => n.id).sort()).toEqual(c.nodes.map((n) => n.srv.nodeId).sort())
      expect(listed.find((n) => n.id === c.nodes[0]!.srv.nodeId)).toMatchObject({ connections: 1, started: expect.any(Number), lastHeartbeat: expect.any(Number) })
    })

    it('a user on two nodes goes offline only when both connections close', async () => {
      await using c = await cluster()
      const phone = c.join(0, 'bob')
      const laptop = c.join(1, 'bob', 'agent')
      await Promise.all([phone.ready(), laptop.ready()])
      await until(async () => (await c.nodes[2]!.srv.presence.user('bob')).length === 2, 5_000, 'both devices')
      await phone.close()
      await until(async () => (await c.nodes[2]!.srv.presence.user('bob')).length === 1, 5_000, 'one device left')
      expect(await c.nodes[2]!.srv.presence.isOnline('bob')).toBe(true)
      expect(c.events[2]).toEqual(['+bob'])
      await laptop.close()
      await until(() => c.events.every((e) => e.length === 2), 5_000, 'offline everywhere')
      expect(c.events).toEqual([['+bob', '-bob'], ['+bob', '-bob'], ['+bob', '-bob']])
    })

    it('a node that vanishes without a clean close is dropped within the bound, with offline events', async () => {
      await using c = await cluster(PRESENCE_CLUSTER)
      const eve = c.join(2, 'eve')
      const ann = c.join(0, 'ann')
      await Promise.all([eve.ready(), ann.ready()])
      await until(async () => (await c.nodes[0]!.srv.presence.count()).users === 2, 5_000, 'both users')
      const crashed = Date.now()
      c.crash(2)
      await until(() => c.events[0]!.includes('-eve') && c.events[1]!.includes('-eve'), 5_000, 'eve offline')
      // Bound: deadAfterMs, plus one heartbeat interval of detection slack (generous upper bound).
      expect(Date.now() - crashed).toBeLessThan(PRESENCE_CLUSTER.deadAfterMs + 3 * PRESENCE_CLUSTER.heartbeatMs + 500)
      expect(c.nodes[0]!.srv.nodes().map((n) => n.id)).not.toContain(c.nodes[2]!.srv.nodeId)
      expect(await c.nodes[1]!.srv.presence.count()).toEqual({ connections: 1, users: 1 })
      expect(c.events[0]!.filter((e) => e === '-ann')).toEqual([])
    })

    it('a node started late sees the full state', async () => {
      await using c = await cluster()
      const users = ['u1', 'u2', 'u3', 'u4']
      const cl = users.map((u, i) => c.join(i % 3, u))
      await Promise.all(cl.map((x) => x.ready()))
      c.nodes[0]!.srv.room('lobby').add(c.nodes[0]!.srv.connections.get(cl[0]!.connId!)!)
      await using late = await startServer(transport, { bus: c.spare, cluster: STEADY_CLUSTER })
      await until(async () => (await late.srv.presence.count()).users === 4, 5_000, 'state transfer')
      expect((await late.srv.room('lobby').members()).map((m) => m.userId)).toEqual(['u1'])
      for (const u of users) expect(await late.srv.presence.isOnline(u)).toBe(true)
    })
  })
}
