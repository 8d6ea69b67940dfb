import { randomBytes } from 'node:crypto'
import { createNatsBus } from '@rt/bus-nats'
import { describe, expect, it } from 'vitest'
import { connect, defaultHandlers, startServer, until, wsTransport } from './harness.js'
import { startNatsServer } from './nats/nats-server.js'
import { exportedText } from './telemetry/expected.js'
import { registerOtelSdk } from './telemetry/otel-sdk.js'

const PRODUCER = 3
const CONSUMER = 4

describe('telemetry across two nodes over a real NATS server', () => {
  const sdk = registerOtelSdk()

  it('a publish on node A and its handling on node B share a trace (producer → consumer), from the calling client on', async () => {
    await using nats = await startNatsServer()
    const prefix = `t${randomBytes(4).toString('hex')}`
    const bus = () => createNatsBus({ servers: nats.url, prefix })
    let publishNews: ((headline: string) => Promise<void>) | undefined
    const handlers = defaultHandlers()
    await using a = await startServer(wsTransport, {
      bus: bus(),
      nodeId: 'node-a',
      handlers: { ...handlers, shared: { ...handlers.shared, echo: async (input) => (await publishNews?.(input.text), input) } },
    })
    publishNews = (headline) => a.srv.publish('news', { headline })
    let srvB: { room(n: string): { add(c: unknown): void } } | undefined
    await using b = await startServer(wsTransport, { bus: bus(), nodeId: 'node-b', onConnection: (conn) => srvB?.room('room-SECRET-R').add(conn) })
    srvB = b.srv as never
    await until(() => a.srv.nodes().length === 2 && b.srv.nodes().length === 2, 10_000, 'both nodes see each other')

    await using onB = connect(b.url, 'user', { auth: { name: 'user-SECRET-U' } })
    const got: string[] = []
    onB.on('message', (m) => got.push(m.text))
    onB.on('dm', (m) => got.push(m.text))
    await onB.subscribe('news', (n) => got.push(n.headline)).ready
    // Replicated with the connection's record, which `toUser` on A needs too.
    await until(async () => (await a.srv.room('room-SECRET-R').count()) === 1, 10_000, 'room membership replicated')
    await using onA = connect(a.url, 'user', { auth: { name: 'caller' } })

    const before = (await sdk.spans()).length
    await onA.call.echo({ text: 'via-a' })
    a.srv.room('room-SECRET-R').broadcast('message', { room: 'room-SECRET-R', text: 'b', from: 'x' })
    await a.srv.toUser('user-SECRET-U').emit('dm', { from: 'x', text: 'd' })
    await until(() => got.length === 3, 10_000, 'deliveries on node B')

    const spans = (await sdk.spans()).slice(before)
    const consumer = (name: string) => spans.find((s) => s.kind === CONSUMER && s.name === name)
    for (const [produced, processed] of [['publish news', 'process news'], ['send room', 'process room'], ['send user', 'process user']] as const) {
      const p = spans.find((s) => s.kind === PRODUCER && s.name === produced)
      const c = consumer(processed)
      expect(p, produced).toBeDefined()
      expect(c, processed).toBeDefined()
      expect(c!.spanContext().traceId).toBe(p!.spanContext().traceId)
      expect(c!.parentSpanContext?.spanId).toBe(p!.spanContext().spanId)
      expect(c!.attributes['rt.recipients']).toBe(1)
    }
    // The client's call on A → A's SERVER span → the publish → B's handling: one trace.
    const clientSpan = spans.find((s) => s.kind === 2 && s.attributes['rpc.method'] === 'echo')
    const serverSpan = spans.find((s) => s.kind === 1 && s.attributes['rpc.method'] === 'echo')
    const publish = spans.find((s) => s.kind === PRODUCER && s.name === 'publish news')
    expect(serverSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId)
    expect(publish?.parentSpanContext?.spanId).toBe(serverSpan?.spanContext().spanId)
    expect(consumer('process news')?.spanContext().traceId).toBe(clientSpan?.spanContext().traceId)

    const all = await sdk.metrics()
    expect(sdk.sum(all, 'rt.bus.lag', { 'rt.kind': 'topic' })).toBeGreaterThanOrEqual(1)
    expect(sdk.sum(all, 'rt.bus.lag', { 'rt.kind': 'room' })).toBeGreaterThanOrEqual(1)
    expect(all.get('rt.cluster.nodes')?.points.map((p) => p.value)).toContain(2)
    expect(sdk.sum(all, 'rt.bus.messages.received', { 'rt.bus.kind': 'topic' })).toBeGreaterThanOrEqual(1)
    expect(sdk.sum(all, 'rt.server.fanout.duration', { 'rt.origin': 'peer', 'rt.kind': 'topic' })).toBeGreaterThanOrEqual(1)
    expect(b.srv.stats().totals.delivered).toBe(3)
    const text = exportedText(spans, all)
    expect(text).not.toContain('SECRET')
    expect(text).not.toContain(onB.connId!)
  })
})
