import { describe, expect, it } from 'vitest'
import { RtError } from '@rt/contract'
import type { Bus } from '@rt/server'
import { countingBus } from '../counting-bus.js'
import { connect, startServer, until, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'

/** A fresh set of four buses that reach each other (one per node), and how to dispose of them. */
export type BusSet = () => Promise<{ buses: Bus[]; cleanup(): Promise<void> }>

type Msg = { room: string; text: string; from: string }

/** Rooms and cross-node addressing on three nodes, written once for every bus. */
export function describeCluster(name: string, makeBuses: BusSet, transport: TransportFactory) {
  async function cluster() {
    const { buses, cleanup } = await makeBuses()
    const counted = buses.slice(0, 3).map((b) => countingBus(b))
    const nodes = await Promise.all(
      counted.map((bus) =>
        startServer(transport, { bus, cluster: { heartbeatMs: 200, deadAfterMs: 1_000 } }),
      ),
    )
    // Once every node has heard every other, each one's bus subscriptions are known cluster-wide.
    await until(() => nodes.every((n) => n.srv.nodes().length === nodes.length), 5_000, 'nodes to see each other')
    const clients: { close(): Promise<void> }[] = []
    return {
      nodes,
      buses: counted,
      join<R extends 'user' | 'agent'>(i: number, role: R, name: string) {
        const c = connect(nodes[i]!.url, role, { auth: { name } })
        clients.push(c)
        return c
      },
      /** Waits until every node's replicated view counts `total` connections (bus interest is in place by then). */
      async converged(total: number) {
        await until(() => nodes.every((n) => n.srv.nodes().reduce((a, x) => a + x.connections, 0) === total), 5_000, `${total} connections everywhere`)
      },
      conn(i: number, connId: string | undefined) {
        const c = nodes[i]!.srv.connections.get(connId!)
        if (!c) throw new Error(`no conn ${connId} on node ${i}`)
        return c
      },
      async [Symbol.asyncDispose]() {
        await Promise.all(clients.map((c) => c.close()))
        // Leak check: every room left, every per-user subscription released.
        await until(() => nodes.every((n) => n.srv.stats().rooms === 0 && n.srv.connections.size === 0), 5_000, 'rooms to empty')
        for (const n of nodes) expect(n.srv.stats()).toMatchObject({ connections: 0, rooms: 0 })
        await Promise.all(nodes.map((n) => n.srv.close()))
        await cleanup()
      },
    }
  }

  describe(`rooms and addressing across three nodes on ${name}`, () => {
    it('room broadcast reaches every member on every node exactly once, and no one else', async () => {
      await using c = await cluster()
      const members = [0, 0, 1, 1, 2, 2].map((i, k) => ({ i, client: c.join<'user' | 'agent'>(i, k % 2 ? 'agent' : 'user', `m${k}`), got: [] as Msg[] }))
      const outsiders = [0, 1, 2].map((i) => ({ client: c.join(i, 'user', `o${i}`), got: [] as Msg[] }))
      for (const m of members) m.client.on('message', (msg) => m.got.push(msg))
      for (const o of outsiders) o.client.on('message', (msg) => o.got.push(msg))
      await Promise.all([...members, ...outsiders].map((m) => m.client.ready()))
      for (const m of members) c.nodes[m.i]!.srv.room('r1').add(c.conn(m.i, m.client.connId))
      await until(async () => (await c.nodes[2]!.srv.room('r1').count()) === 6, 5_000, 'replicated membership')
      expect(c.nodes[0]!.srv.room('r1').size).toBe(2)
      c.nodes[0]!.srv.room('r1').broadcast('message', { room: 'r1', text: 'from 0', from: 'a' })
      c.nodes[2]!.srv.room('r1').broadcast('message', { room: 'r1', text: 'from 2', from: 'b' })
      await until(() => members.every((m) => m.got.length >= 2), 5_000, 'deliveries')
      await c.buses[0]!.flush()
      await new Promise((r) => setTimeout(r, 100))
      for (const m of members) expect(m.got.map((g) => g.text).sort()).toEqual(['from 0', 'from 2'])
      for (const o of outsiders) expect(o.got).toEqual([])
      expect(await c.nodes[1]!.srv.rooms()).toEqual(['r1'])
      const listed = await c.nodes[1]!.srv.room('r1').members()
      expect(listed.map((x) => x.userId).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5'])
      expect(new Set(listed.map((x) => x.nodeId))).toEqual(new Set(c.nodes.map((n) => n.srv.nodeId)))
    })

    it('a node with no member of a room receives no bus traffic for it', async () => {
      await using c = await cluster()
      const a = c.join(0, 'user', 'a')
      const b = c.join(1, 'user', 'b')
      const z = c.join(2, 'user', 'z')
      await Promise.all([a.ready(), b.ready(), z.ready()])
      const got: Msg[] = []
      b.on('message', (m) => got.push(m))
      c.nodes[0]!.srv.room('quiet').add(c.conn(0, a.connId))
      c.nodes[1]!.srv.room('quiet').add(c.conn(1, b.connId))
      await until(async () => (await c.nodes[0]!.srv.room('quiet').count()) === 2, 5_000, 'replicated membership')
      const subject = 'room.quiet'
      for (let k = 0; k < 20; k++) c.nodes[0]!.srv.room('quiet').broadcast('message', { room: 'quiet', text: String(k), from: 'a' })
      await until(() => got.length === 20, 5_000, 'node 1 deliveries')
      expect(c.buses[1]!.received.get(subject)).toBe(20)
      expect(c.buses[2]!.received.get(subject) ?? 0).toBe(0)
      // The last member leaves node 1: it stops receiving the room's traffic too.
      c.nodes[1]!.srv.room('quiet').remove(c.conn(1, b.connId))
      c.nodes[0]!.srv.room('quiet').broadcast('message', { room: 'quiet', text: 'after', from: 'a' })
      await c.buses[0]!.flush()
      await new Promise((r) => setTimeout(r, 100))
      expect(c.buses[1]!.received.get(subject)).toBe(20)
      expect(got).toHaveLength(20)
      expect(c.nodes[1]!.srv.stats().rooms).toBe(0)
    })

    it('toConn reaches one connection on another node directly, without other nodes seeing it', async () => {
      await using c = await cluster()
      await using target = await rawSocket(c.nodes[2]!.url)
      const { conn: targetId } = await target.hello('user', { name: 'bob' })
      const other = c.join(1, 'user', 'bob')
      await other.ready()
      const otherGot: unknown[] = []
      other.on('dm', (m) => otherGot.push(m))
      await c.nodes[0]!.srv.toConn(targetId).emit('dm', { from: 'ann', text: 'psst' })
      // Role scoping: a role event for another role is not delivered; one for this role is.
      await c.nodes[0]!.srv.forRole('agent').toConn(targetId).emit('task', { id: '1', prompt: 'p' })
      await c.nodes[0]!.srv.forRole('user').toConn(targetId).emit('alert', { level: 'warn', text: 'two' })
      await target.next((f) => f.t === 'event' && f.n === 'alert')
      expect(target.frames.filter((f) => f.t === 'event').map((f) => [f.n, f.d])).toEqual([['dm', { from: 'ann', text: 'psst' }]])
      expect(c.buses[1]!.receivedMatching('node.')).toBe(0)
      expect(otherGot).toEqual([])
      await expect(c.nodes[0]!.srv.toConn(targetId).emit('task' as never, { id: '1', prompt: 'p' } as never)).rejects.toThrow(RtError)
    })

    it('toUser reaches every connection of the user on every node; forRole narrows to one role', async () => {
      await using c = await cluster()
      const u1 = c.join(1, 'user', 'bob')
      const u2 = c.join(2, 'user', 'bob')
      const ag = c.join(2, 'agent', 'bob')
      const stranger = c.join(0, 'user', 'eve')
      await Promise.all([u1, u2, ag, stranger].map((x) => x.ready()))
      await c.converged(4)
      const dms: string[] = []
      u1.on('dm', (m) => dms.push(`0:${m.text}`))
      u2.on('dm', (m) => dms.push(`1:${m.text}`))
      ag.on('dm', (m) => dms.push(`2:${m.text}`))
      stranger.on('dm', (m) => dms.push(`3:${m.text}`))
      const tasks: unknown[] = []
      ag.on('task', (t) => tasks.push(t))
      await c.nodes[0]!.srv.toUser('bob').emit('dm', { from: 'ann', text: 'hi' })
      await until(() => dms.length === 3, 5_000, 'dms')
      expect(dms.sort()).toEqual(['0:hi', '1:hi', '2:hi'])
      await c.nodes[1]!.srv.forRole('agent').toUser('bob').emit('task', { id: 't', prompt: 'go' })
      await until(() => tasks.length === 1, 5_000, 'task')
      await c.nodes[1]!.srv.forRole('user').toUser('bob').emit('dm', { from: 'x', text: 'users only' })
      await until(() => dms.length === 5, 5_000, 'role-scoped dms')
      await new Promise((r) => setTimeout(r, 100))
      expect(dms.filter((d) => d.endsWith('users only')).sort()).toEqual(['0:users only', '1:users only'])
    })

    it("the seed's DM pattern: a per-user room in onConnection, broadcast from any node", async () => {
      const { buses, cleanup } = await makeBuses()
      const nodes = await Promise.all(
        buses.slice(0, 3).map((bus) =>
          startServer(transport, { bus, onConnection: (conn, ctx) => c0(conn, ctx) }),
        ),
      )
      function c0(conn: unknown, ctx: { user: { id: string } }) {
        const srv = nodes.find((n) => n.srv.connections.has((conn as { id: string }).id))!.srv
        srv.room(`user:${ctx.user.id}`).add(conn as never)
      }
      const bob1 = connect(nodes[1]!.url, 'user', { auth: { name: 'bob' } })
      const bob2 = connect(nodes[2]!.url, 'agent', { auth: { name: 'bob' } })
      const ann = connect(nodes[0]!.url, 'user', { auth: { name: 'ann' } })
      await Promise.all([bob1.ready(), bob2.ready(), ann.ready()])
      await until(async () => (await nodes[0]!.srv.room('user:bob').count()) === 2, 5_000, 'per-user room replicated')
      const got: string[] = []
      bob1.on('dm', (m) => got.push(`1:${m.text}`))
      bob2.on('dm', (m) => got.push(`2:${m.text}`))
      ann.on('dm', (m) => got.push(`ann:${m.text}`))
      nodes[0]!.srv.room('user:bob').broadcast('dm', { from: 'ann', text: 'hello bob' })
      await until(() => got.length === 2, 5_000, 'dm pattern')
      expect(got.sort()).toEqual(['1:hello bob', '2:hello bob'])
      await Promise.all([bob1.close(), bob2.close(), ann.close()])
      await until(() => nodes.every((n) => n.srv.stats().rooms === 0))
      await Promise.all(nodes.map((n) => n.srv.close()))
      await cleanup()
    })

    it('a closing connection leaves all its rooms, everywhere', async () => {
      await using c = await cluster()
      const a = c.join(0, 'user', 'a')
      await a.ready()
      const conn = c.conn(0, a.connId)
      for (const r of ['x', 'y', 'z']) c.nodes[0]!.srv.room(r).add(conn)
      await until(async () => (await c.nodes[2]!.srv.room('z').count()) === 1, 5_000, 'replicated join')
      await a.close()
      await until(() => c.nodes[0]!.srv.stats().rooms === 0, 5_000, 'local leave')
      await until(async () => (await c.nodes[2]!.srv.room('x').count()) === 0, 5_000, 'replicated leave')
      expect(await c.nodes[1]!.srv.room('y').members()).toEqual([])
    })

    it('broadcast refuses a role event at runtime (rooms are mixed-role)', async () => {
      await using c = await cluster()
      expect(() => c.nodes[0]!.srv.room('r').broadcast('alert' as never, { level: 'info', text: 'x' } as never)).toThrow(/not in the shared vocabulary/)
    })
  })
}
