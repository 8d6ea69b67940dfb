// The server API the inspector reads, across three nodes: every node's figures on every node
// (heartbeat stats, connections by role), a cluster-wide connection listing, and closing a
// connection from any node.
import { describe, expect, it } from 'vitest'
import { until } from './harness.js'
import { inspectedCluster, type TransportKind } from './inspector/inspected-cluster.js'

describe.each<TransportKind>(['ws', 'uws'])('cluster API for the inspector (%s)', (kind) => {
  it('every node knows every node’s connections by role and topic subscriptions', async () => {
    await using c = await inspectedCluster(kind)
    const ann = c.join(0, 'user', 'ann')
    const bob = c.join(1, 'agent', 'bob')
    const cid = c.join(2, 'user', 'cid')
    await Promise.all([ann.ready(), bob.ready(), cid.ready()])
    await ann.subscribe('news', () => {}).ready
    await cid.subscribe('ticker', { symbol: 'A' }, () => {}).ready
    await cid.subscribe('ticker', { symbol: 'B' }, () => {}).ready
    const [n1, n2, n3] = c.nodes.map((n) => n.srv)
    expect(n1!.stats()).toMatchObject({ roles: { user: 1 }, topics: { news: 1 } })
    expect(n2!.stats()).toMatchObject({ roles: { agent: 1 }, topics: {} })
    expect(n3!.stats()).toMatchObject({ roles: { user: 1 }, topics: { ticker: 2 } })
    // Heartbeats carry the figures: after one, node 2 sees what the others see of themselves.
    for (const n of c.nodes) {
      await until(() => {
        const seen = n2!.nodes().find((x) => x.id === n.srv.nodeId)
        return seen && JSON.stringify(seen.stats?.topics) === JSON.stringify(n.srv.stats().topics) && JSON.stringify(seen.roles) === JSON.stringify(n.srv.stats().roles)
      }, 5_000, `stats of ${n.srv.nodeId} on n2`)
    }
    expect(n2!.nodes().find((x) => x.id === 'n3')).toMatchObject({ connections: 1, roles: { user: 1 }, stats: { topics: { ticker: 2 }, at: expect.any(Number) } })
  })

  it('lists connections cluster-wide, filtered, and closes one held by another node', async () => {
    await using c = await inspectedCluster(kind)
    const ann = c.join(0, 'user', 'ann')
    const bob = c.join(1, 'agent', 'bob')
    const ann2 = c.join(2, 'user', 'ann')
    await Promise.all([ann.ready(), bob.ready(), ann2.ready()])
    const n1 = c.nodes[0]!.srv
    await until(async () => (await n1.fetchConnections()).length === 3, 5_000, 'replicated connections')
    expect((await n1.fetchConnections({ userId: 'ann' })).map((x) => x.nodeId).sort()).toEqual(['n1', 'n3'])
    expect(await n1.fetchConnections({ role: 'agent' })).toEqual([{ connId: bob.connId, nodeId: 'n2', userId: 'bob', role: 'agent', since: expect.any(Number) }])
    expect(await n1.fetchConnections({ connId: bob.connId! })).toHaveLength(1)
    expect(await n1.fetchConnections({ limit: 2 })).toHaveLength(2)
    await expect(n1.fetchConnections({ limit: -1 })).rejects.toThrow(TypeError)

    // Scoped to another role, it leaves the connection alone.
    await n1.forRole('user').toConn(bob.connId!).disconnect()
    await expect(n1.toConn(bob.connId!).disconnect(1001)).rejects.toThrow(TypeError)
    await expect(n1.toConn(bob.connId!).disconnect(4000, 'x'.repeat(124))).rejects.toThrow(TypeError)
    const closed: { code: number | undefined; reason: string | undefined }[] = []
    bob.onStateChange((s) => void (s.state === 'closed' && closed.push({ code: s.code, reason: s.reason })))
    await n1.toConn(bob.connId!).disconnect(undefined, 'bye')
    await until(() => bob.state === 'closed', 5_000, 'bob closed by n1')
    // 1000: the client stops for good, and n2 lets the connection go.
    expect(closed[0]).toMatchObject({ code: 1000, reason: 'bye' })
    await until(() => c.nodes[1]!.srv.connections.size === 0, 5_000, 'n2 drops bob')

    // A user's every connection, on every node, from the node that holds none of them. With a
    // code that is not terminal, the clients come back (as new connections).
    const before = [ann.connId, ann2.connId]
    const dropped: (number | undefined)[] = []
    for (const a of [ann, ann2]) a.onStateChange((s) => void (s.state === 'reconnecting' && dropped.push(s.code)))
    await c.nodes[1]!.srv.toUser('ann').disconnect(4321, 'kicked')
    await until(() => dropped.length === 2, 5_000, 'ann dropped on n1 and n3')
    expect(dropped).toEqual([4321, 4321])
    await Promise.all([ann.ready(), ann2.ready()])
    await until(() => ann.state === 'open' && ann2.state === 'open' && !before.includes(ann.connId) && !before.includes(ann2.connId), 5_000, 'ann back')
  })
})
