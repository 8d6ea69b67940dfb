import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Bus } from '@rt/contract'
import { createMemoryBus, createMemoryHub } from '../memory-bus.js'
import { Directory } from './directory.js'
import { packMessage, subjects } from './subjects.js'

const HB = 20
const DEAD = 80
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A bus that can be cut off: the node vanishes for its peers without a clean leave (a crash). */
function cuttable(bus: Bus) {
  let cut = false
  let blipUntil = 0
  const off = () => cut || Date.now() < blipUntil
  return {
    /** Loses every message both ways for a while, like a bus link that drops and comes back. */
    blip: (ms: number) => void (blipUntil = Date.now() + ms),
    bus: {
      ...bus,
      publish: (s: string, d: Uint8Array) => void (off() || bus.publish(s, d)),
      subscribe: (s: string, h: (d: Uint8Array, s: string) => void) => bus.subscribe(s, (d, x) => void (off() || h(d, x))),
      flush: () => bus.flush(),
      close: () => bus.close(),
    } as Bus,
    cut: () => void (cut = true),
  }
}

type Node = { id: string; dir: Directory; cut: () => void; blip: (ms: number) => void; alive: boolean; conns: Map<string, { user: string; rooms: Set<string> }>; events: string[] }

function startNode(hub: ReturnType<typeof createMemoryHub>, id: string): Node {
  const c = cuttable(createMemoryBus({ hub }))
  const events: string[] = []
  const dir = new Directory({ bus: c.bus, nodeId: id, heartbeatMs: HB, deadAfterMs: DEAD, report: (e) => { throw e }, onUser: (u, on) => void events.push(`${on ? '+' : '-'}${u}`) })
  dir.start()
  return { id, dir, cut: c.cut, blip: c.blip, alive: true, conns: new Map(), events }
}

/** What every live node should see: the union of the live nodes' own state. */
function truth(nodes: Node[]) {
  const conns: string[] = []
  const rooms: string[] = []
  for (const n of nodes.filter((x) => x.alive)) {
    for (const [id, c] of n.conns) {
      conns.push(`${id}:${c.user}`)
      for (const r of c.rooms) rooms.push(`${r}:${id}`)
    }
  }
  return { conns: conns.sort(), rooms: rooms.sort() }
}

function view(n: Node, users: string[], roomNames: string[]) {
  return {
    conns: users.flatMap((u) => n.dir.userConns(u).map((c) => `${c.connId}:${u}`)).sort(),
    rooms: roomNames.flatMap((r) => n.dir.roomMembers(r).map((m) => `${r}:${m.connId}`)).sort(),
  }
}

const USERS = ['u0', 'u1', 'u2', 'u3']
const ROOMS = ['r0', 'r1']

const op = fc.oneof(
  fc.record({ t: fc.constant('connect' as const), node: fc.nat(3), user: fc.constantFrom(...USERS) }),
  fc.record({ t: fc.constant('disconnect' as const), pick: fc.nat(50) }),
  fc.record({ t: fc.constant('join' as const), pick: fc.nat(50), room: fc.constantFrom(...ROOMS) }),
  fc.record({ t: fc.constant('leave' as const), pick: fc.nat(50), room: fc.constantFrom(...ROOMS) }),
  fc.record({ t: fc.constant('crash' as const), node: fc.nat(3) }),
  fc.record({ t: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ t: fc.constant('blip' as const), node: fc.nat(3), ms: fc.integer({ min: 1, max: 150 }) }),
)

describe('replicated directory', () => {
  it('every live node agrees with the truth at quiescence, after random joins, leaves, crashes and lossy links (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        const hub = createMemoryHub()
        const nodes: Node[] = []
        let seq = 0
        let generation = 0
        const node = (i: number) => {
          while (nodes.length <= i) nodes.push(startNode(hub, `n${nodes.length}g${generation}`))
          if (!nodes[i]!.alive) nodes[i] = startNode(hub, `n${i}g${++generation}`) // restarted node: new identity
          return nodes[i]!
        }
        for (let i = 0; i < 4; i++) node(i)
        try {
          for (const o of ops) {
            const live = nodes.filter((n) => n.alive)
            const all = live.flatMap((n) => [...n.conns.keys()].map((id) => ({ n, id })))
            const picked = all.length ? all[('pick' in o ? o.pick : 0) % all.length] : undefined
            switch (o.t) {
              case 'connect': {
                const n = node(o.node)
                const id = `c${++seq}`
                n.conns.set(id, { user: o.user, rooms: new Set() })
                n.dir.addConn(id, o.user, 'user', Date.now())
                break
              }
              case 'disconnect':
                if (!picked) break
                for (const r of picked.n.conns.get(picked.id)!.rooms) picked.n.dir.leaveRoom(r, picked.id)
                picked.n.conns.delete(picked.id)
                picked.n.dir.removeConn(picked.id)
                break
              case 'join':
                if (!picked || picked.n.conns.get(picked.id)!.rooms.has(o.room)) break
                picked.n.conns.get(picked.id)!.rooms.add(o.room)
                picked.n.dir.joinRoom(o.room, picked.id)
                break
              case 'leave':
                if (!picked || !picked.n.conns.get(picked.id)!.rooms.delete(o.room)) break
                picked.n.dir.leaveRoom(o.room, picked.id)
                break
              case 'crash': {
                const n = nodes[o.node]!
                if (!n.alive || nodes.filter((x) => x.alive).length === 1) break
                n.alive = false
                n.cut()
                n.dir.stop()
                break
              }
              case 'blip':
                if (nodes[o.node]!.alive) nodes[o.node]!.blip(o.ms)
                break
              case 'pause':
                await sleep(o.ms)
                break
            }
          }
          // Quiescence: every link back, past the dead-node bound and a few heartbeats.
          await sleep(150 + DEAD + 4 * HB)
          const expected = truth(nodes)
          for (const n of nodes.filter((x) => x.alive)) {
            expect(view(n, USERS, ROOMS)).toEqual(expected)
            // A room of one member is held as that member: every query answers the same either way.
            for (const r of ROOMS) {
              const members = expected.rooms.filter((x) => x.startsWith(`${r}:`)).map((x) => x.slice(r.length + 1)).sort()
              expect(n.dir.roomCount(r)).toBe(members.length)
              expect(n.dir.connections({ room: r }).map((c) => c.connId).sort()).toEqual(members)
              expect(n.dir.roomNames().includes(r)).toBe(members.length > 0)
            }
            expect(n.dir.counts()).toEqual({ connections: expected.conns.length, users: new Set(expected.conns.map((c) => c.split(':')[1])).size })
            expect(n.dir.nodeList().map((x) => x.id).sort()).toEqual(nodes.filter((x) => x.alive).map((x) => x.id).sort())
          }
        } finally {
          for (const n of nodes) if (n.alive) n.dir.stop()
        }
      }),
      { numRuns: 25 },
    )
  }, 60_000)

  it('emits online once for a user’s first connection anywhere and offline when the last is gone, crash included', async () => {
    const hub = createMemoryHub()
    const a = startNode(hub, 'a')
    const b = startNode(hub, 'b')
    const c = startNode(hub, 'c')
    try {
      a.dir.addConn('a1', 'bob', 'user', 1)
      await sleep(HB)
      b.dir.addConn('b1', 'bob', 'user', 2)
      await sleep(HB)
      a.dir.removeConn('a1')
      await sleep(HB)
      expect(c.events).toEqual(['+bob'])
      // b crashes: nobody tells c, it notices the silence.
      b.cut()
      b.dir.stop()
      await sleep(DEAD + 3 * HB)
      expect(c.events).toEqual(['+bob', '-bob'])
      expect(a.events).toEqual(['+bob', '-bob'])
      expect(c.dir.nodeList().map((n) => n.id).sort()).toEqual(['a', 'c'])
    } finally {
      a.dir.stop()
      c.dir.stop()
    }
  })

  it("a peer's delta or snapshot changes only that peer's own part", async () => {
    const hub = createMemoryHub()
    const a = startNode(hub, 'a')
    const b = startNode(hub, 'b')
    const rogue = createMemoryBus({ hub })
    try {
      a.dir.addConn('a1', 'u1', 'user', 1)
      a.dir.joinRoom('lobby', 'a1')
      a.dir.joinRoom('user:u1', 'a1')
      await sleep(2 * HB)
      expect(b.dir.roomMembers('lobby').map((m) => m.connId)).toEqual(['a1'])
      // Node `x` claims to remove a's member and its connection, then sends a snapshot without them.
      const started = Date.now()
      rogue.publish(subjects.delta, packMessage('delta', { id: 'x', started, seq: 0, ops: [['-r', 'lobby', 'a1'], ['-r', 'user:u1', 'a1'], ['-c', 'a1']] }))
      rogue.publish(subjects.state('b'), packMessage('state', { id: 'x', started, seq: 1, conns: [], rooms: [] }))
      await sleep(HB)
      for (const n of [a, b]) {
        expect(n.dir.roomMembers('lobby').map((m) => m.connId)).toEqual(['a1'])
        expect(n.dir.roomMembers('user:u1').map((m) => m.connId)).toEqual(['a1'])
        expect(n.dir.userConns('u1').map((c) => c.connId)).toEqual(['a1'])
      }
      // a leaves the cluster: its memberships go with it, and nothing else.
      b.dir.addConn('b1', 'u2', 'user', 2)
      b.dir.joinRoom('lobby', 'b1')
      a.dir.stop()
      await sleep(2 * HB)
      expect(b.dir.roomMembers('lobby').map((m) => m.connId)).toEqual(['b1'])
      expect(b.dir.roomNames()).toEqual(['lobby'])
      expect(b.dir.counts()).toEqual({ connections: 1, users: 1 })
    } finally {
      a.dir.stop()
      b.dir.stop()
      await rogue.close()
    }
  })

  it('a node that joins late receives the full state', async () => {
    const hub = createMemoryHub()
    const a = startNode(hub, 'a')
    try {
      for (let i = 0; i < 50; i++) a.dir.addConn(`a${i}`, `u${i % 7}`, 'user', i)
      a.dir.joinRoom('lobby', 'a3')
      await sleep(HB)
      const late = startNode(hub, 'late')
      await sleep(2 * HB)
      expect(late.dir.counts()).toEqual({ connections: 50, users: 7 })
      expect(late.dir.roomMembers('lobby').map((m) => m.connId)).toEqual(['a3'])
      expect(late.events.filter((e) => e.startsWith('+')).sort()).toEqual(['+u0', '+u1', '+u2', '+u3', '+u4', '+u5', '+u6'])
      late.dir.stop()
    } finally {
      a.dir.stop()
    }
  })
})
