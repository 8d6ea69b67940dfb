import { expect } from 'vitest'
import type { StreamPosition } from '@rt/contract'
import { until } from '../harness.js'
import { rawSocket } from '../raw.js'
import { freePort } from '../nats/nats-server.js'
import { historyClient, type HistoryClient } from './history-client.js'
import type { HistoryNode } from './node.js'
import { checkNoSilentGap, PubLog, type StreamId } from './pub-log.js'
import { converged } from './storm.js'

type HistoryFn = (t: string, q: unknown, o: unknown) => Promise<{ publications: { offset: number }[]; offset: number; epoch: string }>
export const historyOf = (node: HistoryNode, s: StreamId, limit = 10) => (node.srv.history as unknown as HistoryFn)(s.topic, { room: s.room }, { limit })

/** Publishes `count` publications on `s`, round robin over the nodes, one after another. */
export async function publishMany(log: PubLog, nodes: HistoryNode[], s: StreamId, count: number) {
  for (let i = 0; i < count; i++) await log.publish(nodes[i % nodes.length]!, i % nodes.length, i, s)
}

/**
 * Clients cut off while more than the retention is published (size 5 exceeded; ttl 300 ms
 * elapsed): when they come back each is told `recovered: false`, gets no partial replay, and
 * continues live from the top.
 */
export async function awayBeyondRetention(nodes: HistoryNode[], count: number, room: string) {
  const streams: StreamId[] = [
    { topic: 'brief', room },
    { topic: 'fleeting', room },
  ]
  const log = new PubLog()
  const dead = `ws://127.0.0.1:${await freePort()}`
  let away = false
  let turn = 0
  const clients: HistoryClient[] = Array.from({ length: count }, (_, i) => historyClient(`a${i}`, () => (away ? dead : nodes[(i + turn++) % nodes.length]!.url)))
  try {
    await Promise.all(clients.map((c) => Promise.all(streams.map((s) => c.follow(s.topic, s.room)))))
    for (const s of streams) await publishMany(log, nodes, s, 3)
    await converged(clients, log, 5_000, 'first publications')
    away = true
    for (const c of clients) c.kill()
    await until(() => clients.every((c) => c.client.state !== 'open'), 5_000, 'clients away')
    await publishMany(log, nodes, streams[0]!, 12)
    await publishMany(log, nodes, streams[1]!, 3)
    // The fleeting stream's ttl runs out while they are away.
    await until(async () => (await historyOf(nodes[1]!, streams[1]!)).publications.length === 0, 5_000, 'ttl to expire')
    const tops = new Map(await Promise.all(streams.map(async (s) => [s.topic, await historyOf(nodes[2]!, s, 0)] as const)))
    away = false
    // A resubscription from the return on: its answer reports the top of the away period or later.
    // A loaded machine can add reconnects of its own (a heartbeat missed by a second), before the
    // kill or after the return; those resubscribe too, and recover what they missed, if anything.
    const back = (r: (typeof clients)[number]['streams'][number]) => r.infos.slice(1).find((i) => i.epoch === tops.get(r.topic)!.epoch && i.offset >= tops.get(r.topic)!.offset)
    await until(() => clients.every((c) => c.client.state === 'open' && c.streams.every((r) => back(r) !== undefined)), 5_000, 'clients back and resubscribed')
    for (const s of streams) await publishMany(log, nodes, s, 2)
    await until(() => clients.every((c) => c.streams.every((r) => r.got.length >= 5)), 5_000, 'live publications after the return')
    for (const c of clients)
      for (const r of c.streams) {
        const top = tops.get(r.topic)!
        const resubs = r.infos.slice(1)
        const i = resubs.indexOf(back(r)!)
        // The first answer after the away period: told recovered: false, never a partial replay.
        expect([resubs[i]!.wasRecovering, resubs[i]!.recovered], `${c.name} ${r.topic}: ${JSON.stringify(resubs)}`).toEqual([true, false])
        // Reconnects of the machine's own before it missed nothing, and recovered.
        for (const before of resubs.slice(0, i)) expect([before.wasRecovering, before.recovered, before.offset < top.offset], `${c.name} ${r.topic}`).toEqual([true, true, true])
        expect(checkNoSilentGap(c.name, r)).toEqual([])
        // Nothing replayed: the 3 from before, then only what was published live after the return.
        expect(r.got.length, `${c.name} ${r.topic}: ${JSON.stringify(r.got)}`).toBe(5)
        expect(r.got.slice(0, 3).map((g) => g.offset)).toEqual([1, 2, 3])
        expect(r.got.slice(3).map((g) => [g.offset, g.epoch])).toEqual([
          [resubs[i]!.offset + 1, top.epoch],
          [resubs[i]!.offset + 2, top.epoch],
        ])
      }
    expect(tops.get('brief')!.offset).toBe(15)
    expect([...log.failures, ...log.conflicts]).toEqual([])
    return { clients: clients.length, resubscriptions: clients.reduce((a, c) => a + c.streams.reduce((b, r) => b + r.infos.length - 1, 0), 0) }
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

/** Bad positions at the cluster level: the stream lives on node 0, the clients come to the others. */
export async function badPositions(nodes: HistoryNode[], room: string) {
  const s: StreamId = { topic: 'feed', room }
  const log = new PubLog()
  await publishMany(log, nodes, s, 3)
  const { epoch } = await historyOf(nodes[1]!, s, 0)
  const cases: [string, StreamPosition, boolean][] = [
    ['a wrong epoch', { offset: 1, epoch: `${epoch}x` }, false],
    ['an epoch of another life', { offset: 0, epoch: 'k3x' }, false],
    ['a future offset', { offset: 1_000, epoch }, false],
    ['the top itself', { offset: 3, epoch }, true],
    ['a good position (the control)', { offset: 1, epoch }, true],
  ]
  const clients = cases.map(([name], i) => historyClient(name, () => nodes[1 + (i % (nodes.length - 1))]!.url))
  try {
    const subs = await Promise.all(cases.map(([, since], i) => clients[i]!.follow(s.topic, s.room, since)))
    subs.forEach(({ info }, i) => expect({ case: cases[i]![0], ...info }).toMatchObject({ case: cases[i]![0], wasRecovering: true, recovered: cases[i]![2], offset: 3, epoch }))
    await log.publish(nodes[0]!, 0, 99, s)
    await until(() => clients.every((c) => c.streams[0]!.got.at(-1)?.offset === 4), 5_000, 'the live publication')
    const got = clients.map((c) => c.streams[0]!.got.map((g) => g.offset))
    expect(got).toEqual([[4], [4], [4], [4], [2, 3, 4]])

    // Malformed positions: BAD_REQUEST for that sub only; the connection stays usable.
    await using raw = await rawSocket(nodes[2]!.url)
    await raw.hello('user', { name: 'raw' })
    const bad = [{ o: -1, e: epoch }, { o: 1.5, e: epoch }, { o: 1, e: '' }, { o: 1, e: 'x'.repeat(65) }, { o: '1', e: epoch }, 'nope', { o: Number.MAX_SAFE_INTEGER + 2, e: epoch }]
    for (const [i, sPos] of bad.entries()) {
      raw.send({ t: 'sub', id: 100 + i, n: s.topic, q: { room }, s: sPos })
      const f = await raw.next((x) => x.id === 100 + i)
      expect({ s: sPos, t: f.t, code: f.code }).toEqual({ s: sPos, t: 'error', code: 'BAD_REQUEST' })
    }
    raw.send({ t: 'sub', id: 200, n: s.topic, q: { room }, s: { o: 2, e: epoch } })
    expect(await raw.next((x) => x.id === 200)).toMatchObject({ t: 'result', d: { r: true, o: 4, e: epoch } })
    const replay = [await raw.next((x) => x.t === 'pub'), await raw.next((x) => x.t === 'pub')]
    expect(replay.map((p) => p.o)).toEqual([3, 4])
    expect(raw.isClosed).toBe(false)
    for (const n of nodes) expect(n.errors).toEqual([])
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}
