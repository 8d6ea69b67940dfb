import { CloseCode, RtError } from '@rt/contract'
import { describe, expect, it } from 'vitest'
import { connect, defaultHandlers, startServer, until, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'
import { CLIENT_METRICS, CLUSTER_ONLY, SERVER_METRICS, exportedText } from './expected.js'
import { registerOtelSdk } from './otel-sdk.js'

// Distinctive values that must never reach an exported attribute.
const ROOM = 'room-SECRET-R'
const USER = 'user-SECRET-U'
const PARAM = 'param-SECRET-P'

/** Real traffic over real sockets, then every documented metric is asserted on the exported data. */
export function describeTelemetry(name: string, transport: TransportFactory) {
  describe(`telemetry over ${name}`, () => {
    const sdk = registerOtelSdk()

    it('exports every documented metric with its attributes, the totals add up, and no attribute names a room, user, conn or params value', async () => {
      let srvRef: { room(n: string): { add(c: unknown): void } } | undefined
      await using s = await startServer(transport, {
        limits: { maxBufferedBytes: 256 * 1024, rateBurst: 40, ratePerSecond: 20 },
        onConnection: (conn) => srvRef?.room(ROOM).add(conn),
        handlers: { ...defaultHandlers() },
      })
      srvRef = s.srv as never
      await using user = connect(s.url, 'user', { auth: { name: USER } })
      await using agent = connect(s.url, 'agent', { auth: { name: 'agent-SECRET-U' } })
      const who = await user.call.whoami({})
      const agentWho = await agent.call.whoami({})
      const got: string[] = []
      user.on('message', (m) => got.push(m.text))
      user.on('dm', (m) => got.push(m.text))
      await user.subscribe('ticker', { symbol: PARAM }, (t) => got.push(String(t.price))).ready
      await user.subscribe('news', (n) => got.push(n.headline)).ready

      await user.call.ping({})
      await expect(user.call.fail({ kind: 'rt' })).rejects.toMatchObject({ code: 'CONFLICT' })
      await expect(user.call.echo({ text: 1 as never })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
      s.srv.room(ROOM).broadcast('message', { room: ROOM, text: 'b1', from: 'x' })
      await s.srv.forRole('user').publish('ticker', { price: 7 }, { symbol: PARAM })
      await s.srv.publish('news', { headline: 'n1' })
      await s.srv.toConn(who.conn).emit('dm', { from: 'x', text: 'd1' })
      await s.srv.toUser(USER).emit('dm', { from: 'x', text: 'd2' })
      await until(() => got.length >= 5, 5_000, 'deliveries')

      // A procedure the role does not have, a refused handshake, a rate-limited socket, a slow consumer.
      await using raw = await rawSocket(s.url)
      await raw.hello('user', { name: 'raw-SECRET-U' })
      raw.send({ t: 'call', id: 1, p: 'no-such-procedure-SECRET', d: {} })
      expect(await raw.next((f) => f.id === 1)).toMatchObject({ code: 'NOT_FOUND' })
      for (let i = 0; i < 60; i++) raw.send({ t: 'ping' })
      await using bad = connect(s.url, 'user', { auth: { token: 'bad' } })
      await expect(bad.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
      await using slow = await rawSocket(s.url)
      await slow.hello()
      ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
      slow.send({ t: 'call', id: 1, p: 'burst', d: { count: 2_000, size: 8_000 } })
      await until(() => s.srv.stats().connections === 3, 10_000, 'slow consumer and rate-limited socket closed')

      const all = await sdk.metrics()
      for (const [metric, keys] of Object.entries({ ...SERVER_METRICS, ...CLIENT_METRICS })) {
        if (CLUSTER_ONLY.has(metric)) continue
        const m = all.get(metric)
        expect(m, metric).toBeDefined()
        expect(m!.points.length, metric).toBeGreaterThan(0)
        for (const p of m!.points) for (const k of keys) expect(p.attributes, `${metric} ${k}`).toHaveProperty([k])
      }
      expect(sdk.sum(all, 'rpc.server.call.duration', { 'rpc.method': 'ping', 'rpc.response.status_code': 'OK' })).toBe(1)
      expect(sdk.sum(all, 'rpc.server.call.duration', { 'rpc.method': 'fail', 'error.type': 'CONFLICT' })).toBe(1)
      expect(sdk.sum(all, 'rpc.server.call.duration', { 'rpc.method': '_OTHER', 'error.type': 'NOT_FOUND' })).toBe(1)
      expect(sdk.sum(all, 'rpc.client.call.duration', { 'rpc.method': 'ping', 'rpc.response.status_code': 'OK' })).toBe(1)
      expect(sdk.sum(all, 'rt.server.validation.failures', { 'rpc.method': 'echo', 'rt.direction': 'input' })).toBe(1)
      expect(sdk.sum(all, 'rt.server.connections.open', { 'rt.role': 'agent' })).toBe(1)
      expect(sdk.sum(all, 'rt.server.auth.refusals', { 'rt.close_code': CloseCode.UNAUTHORIZED })).toBe(1)
      expect(sdk.sum(all, 'rt.server.slow_consumer.closes', { 'rt.role': 'user' })).toBe(1)
      expect(sdk.sum(all, 'rt.server.connections.closed', { 'rt.close_code': CloseCode.SLOW_CONSUMER })).toBe(1)
      expect(sdk.sum(all, 'rt.server.rate_limit.hits', { 'rt.limit': 'messages' })).toBeGreaterThan(0)
      expect(sdk.sum(all, 'rt.server.subscriptions.open', { 'messaging.destination.name': 'ticker' })).toBe(1)
      expect(sdk.sum(all, 'messaging.client.sent.messages', { 'rt.kind': 'topic', 'messaging.destination.name': 'ticker' })).toBe(1)
      expect(sdk.sum(all, 'messaging.client.sent.messages', { 'rt.kind': 'room' })).toBe(1)
      expect(sdk.sum(all, 'rt.server.deliveries', { 'rt.kind': 'user' })).toBe(1)
      expect(sdk.sum(all, 'rt.cluster.nodes')).toBe(1)
      expect(sdk.sum(all, 'rt.bus.messages.sent', { 'rt.bus.kind': 'room' })).toBe(1)

      const t = s.srv.stats().totals
      // whoami ×2, ping, fail, echo, burst — and the raw NOT_FOUND.
      expect([t.calls, t.callErrors, t.published]).toEqual([7, 3, 5])
      // Both clients are in the room; the rest reached `user` alone.
      expect(t.delivered).toBeGreaterThanOrEqual(2 + 4)
      expect(t.framesIn).toBeGreaterThan(60)
      expect(t.framesOut).toBeGreaterThan(t.delivered)
      expect(t.bytesOut).toBeGreaterThan(t.framesOut)
      expect(t.bytesIn).toBeGreaterThan(t.framesIn)
      expect(sdk.sum(all, 'rt.server.frames.received')).toBeLessThanOrEqual(t.framesIn)

      const text = exportedText(await sdk.spans(), all)
      expect(text).not.toContain('SECRET')
      for (const id of [who.conn, agentWho.conn]) expect(text).not.toContain(id)
    })

    it('makes a CLIENT span per call whose context travels in the call frame: the SERVER span is its child', async () => {
      await using s = await startServer(transport, {
        handlers: { ...defaultHandlers(), shared: { ...defaultHandlers().shared, fail: () => Promise.reject(new RtError('FORBIDDEN', 'no')) } },
      })
      const before = (await sdk.spans()).length
      await using client = connect(s.url, 'user')
      await client.call.echo({ text: 'hi' })
      await expect(client.call.fail({ kind: 'rt' })).rejects.toMatchObject({ code: 'FORBIDDEN' })
      const spans = (await sdk.spans()).slice(before)
      for (const [method, code] of [['echo', 'OK'], ['fail', 'FORBIDDEN']] as const) {
        const mine = spans.filter((sp) => sp.attributes['rpc.method'] === method)
        const clientSpan = mine.find((sp) => sp.kind === 2 && sp.instrumentationScope.name === '@rt/client')
        const serverSpan = mine.find((sp) => sp.kind === 1 && sp.instrumentationScope.name === '@rt/server' && sp.parentSpanContext?.spanId === clientSpan?.spanContext().spanId)
        expect(clientSpan, `${method} client span`).toBeDefined()
        expect(serverSpan, `${method} server span, child of the client's`).toBeDefined()
        expect(serverSpan!.spanContext().traceId).toBe(clientSpan!.spanContext().traceId)
        expect(serverSpan!.attributes).toMatchObject({ 'rpc.system': 'rt', 'rpc.method': method, 'rpc.response.status_code': code })
        expect(clientSpan!.attributes).toMatchObject({ 'rpc.response.status_code': code })
        if (code !== 'OK') expect([serverSpan!.attributes['error.type'], serverSpan!.status.code]).toEqual([code, 2])
      }
    })
  })
}
