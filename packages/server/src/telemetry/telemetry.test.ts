import { describe, expect, it } from 'vitest'
import { createMemoryBus } from '../memory-bus.js'
import { AttrCache, Tally, busKind, closeCodeAttr } from './attrs.js'
import { countingBus } from './bus-probe.js'
import { Telemetry } from './telemetry.js'

describe('telemetry without an SDK', () => {
  it('counts totals and stays off: no span, no meta, no clock', () => {
    const t = new Telemetry()
    t.start(undefined, { bus: { sent: [], received: [] }, connections: () => new Map(), subscriptions: () => new Map(), nodes: () => 1, history: () => undefined })
    expect([t.on, t.now(), t.begin('room'), t.meta(undefined)]).toEqual([false, 0, undefined, undefined])
    t.sent(undefined, 'room', undefined, 3, 0)
    t.sent(undefined, 'topic', 'news', 2, 0, 'abcd') // written by native pub/sub: counted here, not by Connection.send
    t.received('conn', undefined, '{"s":1}', 1, 0)
    expect(t.totals).toMatchObject({ published: 2, delivered: 6, framesOut: 2, bytesOut: 8 })
  })
})

describe('attribute sets and tallies', () => {
  it('makes each attribute set once and tallies counts per set', () => {
    let made = 0
    const cache = new AttrCache((a, b) => (made++, { a, b }))
    expect(cache.get('x', 'y')).toBe(cache.get('x', 'y'))
    expect(made).toBe(1)
    const tally = new Tally((role) => ({ 'rt.role': role }))
    tally.add('user', '')
    tally.add('user', '', 4)
    tally.add('agent', '')
    const seen: [number, object][] = []
    tally.report({ observe: (n, attributes) => void seen.push([n, attributes]) })
    expect(seen).toEqual([[5, { 'rt.role': 'user' }], [1, { 'rt.role': 'agent' }]])
  })

  it('keeps close codes a client invents out of the attributes, and kinds bus subjects by their first token', () => {
    expect([closeCodeAttr(4005), closeCodeAttr(1006), closeCodeAttr(4999), closeCodeAttr(3000)]).toEqual([4005, 1006, 0, 0])
    expect(['room.x', 'topic.shared.news.', 'node.a', 'cluster.hb', 'zzz'].map(busKind)).toEqual([0, 1, 2, 3, 4])
  })
})

describe('the counting bus', () => {
  it('counts messages per subject kind and forwards everything else to the bus', async () => {
    const inner = Object.assign(createMemoryBus(), { history: 'the store' })
    const { bus, counts } = countingBus(inner)
    const got: string[] = []
    bus.subscribe('room.a', (_d, s) => void got.push(s))
    bus.publish('room.a', new Uint8Array([1]))
    bus.publish('topic.x', new Uint8Array([1]))
    await bus.flush()
    expect([got, counts.sent.slice(0, 2), counts.received.slice(0, 2)]).toEqual([['room.a'], [1, 1], [1, 0]])
    expect([bus.status, (bus as { history?: unknown }).history]).toEqual(['connected', 'the store'])
    await bus.close()
    expect(inner.status).toBe('closed')
  })
})
