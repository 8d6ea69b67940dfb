import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createNatsBus } from '@rt/bus-nats'
import { connect, startServer, until, wsTransport } from './harness.js'
import { startNatsCluster } from './nats/nats-server.js'
import { spawnNode } from './spawn.js'
import { PRESENCE_CLUSTER } from './suites/presence.js'

const prefix = () => `t${randomBytes(4).toString('hex')}`

describe('failures on a real NATS cluster', () => {
  it('a killed @rt node: peers drop it within the bound; its clients land elsewhere, re-subscribe and rebuild their rooms; a restarted node has a new identity', async () => {
    await using nats = await startNatsCluster(3)
    const p = prefix()
    const nodes = await Promise.all(
      [0, 1].map((i) =>
        startServer(wsTransport, {
          bus: createNatsBus({ servers: nats.urls[i]!, prefix: p, reconnectTimeWaitMs: 100 }),
          cluster: PRESENCE_CLUSTER,
          onConnection: (conn, ctx) => {
            nodes[i]!.srv.room(`user:${ctx.user.id}`).add(conn)
          },
        }),
      ),
    )
    const offline: string[] = []
    nodes[0]!.srv.presence.on('offline', (u) => offline.push(u))
    const env = { RT_NATS_URL: nats.urls[2]!, RT_NATS_PREFIX: p }
    const child = await spawnNode<{ port: number; nodeId: string }>('child-server.ts', [], env)
    let urls = [`ws://127.0.0.1:${child.info.port}`, nodes[1]!.url]
    let attempt = 0
    await using mover = connect(() => urls[Math.min(attempt++, 1)]!, 'user', { auth: { name: 'mover' } })
    await mover.ready()
    expect(mover.nodeId).toBe(child.info.nodeId)
    const news: string[] = []
    const dms: string[] = []
    await mover.subscribe('news', (n) => news.push(n.headline)).ready
    mover.on('dm', (m) => dms.push(m.text))
    await until(async () => (await nodes[0]!.srv.presence.user('mover')).length === 1, 5_000, 'mover visible on node 0')
    await until(() => (nodes[0]!.srv.publish('news', { headline: 'first' }), news.length > 0), 5_000, 'news through the child node')

    const killed = Date.now()
    child.child.kill('SIGKILL')
    // Peers notice the silence and drop the dead node's connections.
    await until(() => nodes[0]!.srv.nodes().every((n) => n.id !== child.info.nodeId), 5_000, 'dead node dropped')
    expect(Date.now() - killed).toBeLessThan(PRESENCE_CLUSTER.deadAfterMs + 3 * PRESENCE_CLUSTER.heartbeatMs + 1_000)
    // The client lands on node 1, restores its subscription and (through onConnection) its per-user room.
    await until(() => mover.state === 'open' && mover.nodeId === nodes[1]!.srv.nodeId, 10_000, 'mover on node 1')
    await until(() => (nodes[0]!.srv.publish('news', { headline: 'after' }), news.includes('after')), 5_000, 'news after the move')
    await until(() => (nodes[0]!.srv.room('user:mover').broadcast('dm', { from: 'ann', text: 'found you' }), dms.length > 0), 5_000, 'dm after the move')
    expect(dms[0]).toBe('found you')
    expect(await nodes[0]!.srv.presence.user('mover')).toEqual([expect.objectContaining({ nodeId: nodes[1]!.srv.nodeId })])

    // Restarted on the same port, the node comes back as a new member of the cluster.
    await using again = await spawnNode<{ port: number; nodeId: string }>('child-server.ts', [String(child.info.port)], env)
    expect(again.info.nodeId).not.toBe(child.info.nodeId)
    await until(() => nodes[0]!.srv.nodes().some((n) => n.id === again.info.nodeId), 5_000, 'restarted node seen')
    expect(nodes[0]!.srv.nodes().map((n) => n.id)).not.toContain(child.info.nodeId)
    urls = [nodes[1]!.url, nodes[1]!.url]
    await mover.close()
    await Promise.all(nodes.map((n) => n.srv.close()))
  })

  it('kill and restart one NATS server during room traffic: the bus reconnects, delivery and replicated state resume, no crash', async () => {
    await using nats = await startNatsCluster(3)
    const p = prefix()
    const statuses: string[] = []
    const buses = nats.urls.map((servers) => createNatsBus({ servers, prefix: p, reconnectTimeWaitMs: 100 }))
    buses[2]!.onStatus?.((s) => statuses.push(s))
    const nodes = await Promise.all(buses.map((bus) => startServer(wsTransport, { bus, cluster: PRESENCE_CLUSTER })))
    const clients = nodes.map((n, i) => connect(n.url, 'user', { auth: { name: `m${i}` } }))
    await Promise.all(clients.map((c) => c.ready()))
    const got: string[][] = [[], [], []]
    clients.forEach((c, i) => c.on('message', (m) => got[i]!.push(m.text)))
    nodes.forEach((n, i) => n.srv.room('live').add(n.srv.connections.get(clients[i]!.connId!)!))
    await until(async () => (await nodes[0]!.srv.room('live').count()) === 3, 5_000, 'members replicated')

    let sent = 0
    const traffic = setInterval(() => nodes[0]!.srv.room('live').broadcast('message', { room: 'live', text: String(++sent), from: 'n0' }), 10)
    try {
      await until(() => got[2]!.length > 5, 5_000, 'traffic flowing to node 2')
      await nats.servers[2]!.kill()
      await until(() => statuses.includes('reconnecting'), 5_000, 'bus reconnecting')
      const during = got[2]!.length
      await nats.servers[2]!.restart()
      await nats.routed()
      await until(() => statuses.at(-1) === 'connected', 10_000, 'bus connected again')
      await until(() => got[2]!.length > during + 5, 10_000, 'delivery to node 2 resumes')
      // Node 1 never lost its link: it got everything, in order.
      const n1 = got[1]!.map(Number)
      expect(n1).toEqual([...n1].sort((a, b) => a - b))
    } finally {
      clearInterval(traffic)
    }
    // Replicated state converges again everywhere (deltas lost during the outage are re-synced).
    nodes[2]!.srv.room('late').add(nodes[2]!.srv.connections.get(clients[2]!.connId!)!)
    for (const n of nodes) await until(async () => (await n.srv.room('late').count()) === 1 && (await n.srv.room('live').count()) === 3, 10_000, 'state converged')
    expect(nodes.every((n) => n.srv.nodes().length === 3)).toBe(true)
    await Promise.all(clients.map((c) => c.close()))
    await Promise.all(nodes.map((n) => n.srv.close()))
  })
})
