import { describe, expect, it } from 'vitest'
import { createMemoryBus, createMemoryHub } from '../memory-bus.js'
import { Directory } from './directory.js'
import type { NodeStats } from './node-stats.js'
import { readStats } from './node-stats.js'
import { packMessage, subjects } from './subjects.js'

const HB = 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function node(hub: ReturnType<typeof createMemoryHub>, id: string, stats?: () => NodeStats) {
  const dir = new Directory({ bus: createMemoryBus({ hub }), nodeId: id, heartbeatMs: HB, deadAfterMs: 4 * HB, report: (e) => { throw e }, ...(stats && { stats }) })
  dir.start()
  return dir
}

describe('heartbeat stats', () => {
  it('every node learns every node’s stats and connections by role', async () => {
    const hub = createMemoryHub()
    let delivered = 0
    const a = node(hub, 'a', () => ({ at: Date.now(), topics: { news: 2 }, totals: { delivered } }))
    const b = node(hub, 'b')
    try {
      a.addConn('a.1', 'ann', 'user', 1)
      a.addConn('a.2', 'bob', 'agent', 2)
      a.addConn('a.3', 'cid', 'user', 3)
      a.removeConn('a.3')
      delivered = 7
      await sleep(3 * HB)
      const seen = b.nodeList().find((n) => n.id === 'a')
      expect(seen).toMatchObject({ connections: 2, roles: { user: 1, agent: 1 }, stats: { topics: { news: 2 }, totals: { delivered: 7 } } })
      expect(a.roleCounts()).toEqual({ user: 1, agent: 1 })
      // A node without a stats source reports none; its own view of itself has none either.
      expect(a.nodeList().find((n) => n.id === 'b')).not.toHaveProperty('stats')
      expect(b.nodeList().find((n) => n.id === 'b')).not.toHaveProperty('stats')
    } finally {
      a.stop()
      b.stop()
    }
  })

  it('accepts a heartbeat of an older version (no stats) and ignores malformed stats', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const old = createMemoryBus({ hub })
    try {
      // Exactly what earlier versions send.
      old.publish(subjects.heartbeat, packMessage('heartbeat', { id: 'old', started: 5, seq: 0, conns: 0 }))
      await sleep(HB)
      expect(a.nodeList().find((n) => n.id === 'old')).toEqual({ id: 'old', started: 5, lastHeartbeat: expect.any(Number), connections: 0, roles: {} })
      const bad = [{ at: 'x', topics: {} }, { at: 1, topics: null }, 'stats', { at: 1, topics: { t: -1, u: 'x', ok: 3 }, totals: { calls: Infinity, framesIn: 4, nope: 1 } }]
      for (const stats of bad) {
        old.publish(subjects.heartbeat, new TextEncoder().encode(JSON.stringify({ id: 'old', started: 5, seq: 0, conns: 0, stats })))
        await sleep(HB / 2)
      }
      expect(a.nodeList().find((n) => n.id === 'old')?.stats).toEqual({ at: 1, topics: { ok: 3 }, totals: { framesIn: 4 } })
      // Still alive past the dead-node bound while it keeps beating, stats or not.
      for (let i = 0; i < 6; i++) {
        old.publish(subjects.heartbeat, packMessage('heartbeat', { id: 'old', started: 5, seq: 0, conns: 0 }))
        await sleep(HB)
      }
      expect(a.nodeList().map((n) => n.id).sort()).toEqual(['a', 'old'])
      expect(a.nodeList().find((n) => n.id === 'old')).not.toHaveProperty('stats')
    } finally {
      a.stop()
      await old.close()
    }
  })

  it('closing requests travel on a subject of each node’s own, which older nodes never held', () => {
    expect(subjects.nodeControl('n-1')).toBe('node.n-1.ctl')
    expect(subjects.node('n-1')).toBe('node.n-1')
  })

  it('readStats bounds what a peer can make this node hold', () => {
    const topics = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`t${i}`, i]))
    expect(Object.keys(readStats({ at: 1, topics })!.topics)).toHaveLength(1_000)
    expect(readStats(JSON.parse('{"at":1,"topics":{"__proto__":1,"x":2}}'))!.topics).toEqual({ x: 2 })
    expect(readStats(undefined)).toBeUndefined()
  })
})

describe('connections query', () => {
  it('filters by node, role, user and room, up to a limit', async () => {
    const hub = createMemoryHub()
    const a = node(hub, 'a')
    const b = node(hub, 'b')
    try {
      a.addConn('a.1', 'ann', 'user', 1)
      a.addConn('a.2', 'bob', 'agent', 2)
      b.addConn('b.1', 'ann', 'user', 3)
      b.joinRoom('lobby', 'b.1')
      await sleep(3 * HB)
      const ids = (q: Parameters<Directory['connections']>[0]) => b.connections(q).map((c) => c.connId).sort()
      expect(ids({})).toEqual(['a.1', 'a.2', 'b.1'])
      expect(ids({ nodeId: 'a' })).toEqual(['a.1', 'a.2'])
      expect(ids({ role: 'user' })).toEqual(['a.1', 'b.1'])
      expect(ids({ userId: 'ann', nodeId: 'b' })).toEqual(['b.1'])
      expect(ids({ room: 'lobby' })).toEqual(['b.1'])
      expect(ids({ room: 'lobby', role: 'agent' })).toEqual([])
      expect(ids({ nodeId: 'nowhere' })).toEqual([])
      expect(ids({ connId: 'a.2' })).toEqual(['a.2'])
      expect(ids({ connId: 'a.2', role: 'user' })).toEqual([])
      expect(ids({ connId: 'zz' })).toEqual([])
      expect(b.connections({ limit: 2 })).toHaveLength(2)
      expect(b.connections({ limit: 0 })).toEqual([])
      expect(() => b.connections({ limit: Number.NaN })).toThrow(TypeError)
    } finally {
      a.stop()
      b.stop()
    }
  })
})
