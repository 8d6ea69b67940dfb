import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { msgpackEncoder } from '@rt/codec-msgpack'
import { CloseCode, RtError } from '@rt/contract'
import type { StateChange } from '@rt/client'
import { connect, startServer, until, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'
import { spawnNode } from '../spawn.js'

/** Connection lifecycle: auth, handshake, reconnection, restarts, crashes, graceful close, heartbeats. */
export function describeLifecycle(name: string, transport: TransportFactory, childEnv: Record<string, string> = {}) {
  describe(`connection lifecycle over ${name}`, () => {
    it('passes role, auth and the request to authenticate, and ctx to handlers and hooks', async () => {
      const seen: unknown[] = []
      const connected: string[] = []
      await using s = await startServer(transport, {
        authenticate: ({ role, auth, request }) => {
          seen.push({ role, auth, hasHeaders: typeof request.headers.host === 'string' })
          return { user: { id: (auth as { name: string }).name, name: 'Ann' } }
        },
        onConnection: (conn, ctx) => void connected.push(`${conn.role}:${ctx.user.id}`),
      })
      await using client = connect(s.url, 'user', { auth: () => ({ name: 'u1' }) })
      expect((await client.call.whoami({})).user).toBe('u1')
      expect(seen).toEqual([{ role: 'user', auth: { name: 'u1' }, hasHeaders: true }])
      expect(connected).toEqual(['user:u1'])
    })

    it('refuses a failed authentication with close code 4001; the client stops for good', async () => {
      await using s = await startServer(transport)
      await using client = connect(s.url, 'user', { auth: { token: 'bad' } })
      const changes: StateChange[] = []
      client.onStateChange((c) => changes.push(c))
      const err = (await client.ready().catch((e: unknown) => e)) as RtError
      expect(err).toBeInstanceOf(RtError)
      expect(err.code).toBe('UNAUTHORIZED')
      expect(err.message).toBe('Bad token')
      expect(client.state).toBe('closed')
      expect(changes.at(-1)).toMatchObject({ state: 'closed', code: CloseCode.UNAUTHORIZED })
      await expect(client.call.ping({})).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
      expect(s.srv.connections.size).toBe(0)
    })

    it('runs no handler before authentication: a call before hello closes the socket (4000)', async () => {
      let ran = false
      await using s = await startServer(transport, { onConnection: () => void (ran = true) })
      await using raw = await rawSocket(s.url)
      raw.send({ t: 'call', id: 1, p: 'ping', d: {} })
      expect((await raw.closed()).code).toBe(CloseCode.PROTOCOL_ERROR)
      expect(ran).toBe(false)
      expect(raw.frames).toEqual([])
    })

    it('closes with 4007 on another protocol version and 4001 on an unknown role', async () => {
      await using s = await startServer(transport)
      await using a = await rawSocket(s.url)
      a.send({ t: 'hello', v: 99, role: 'user', auth: {} })
      expect((await a.closed()).code).toBe(CloseCode.UNSUPPORTED_VERSION)
      await using b = await rawSocket(s.url)
      b.send({ t: 'hello', v: 1, role: 'admin', auth: {} })
      expect((await b.closed()).code).toBe(CloseCode.UNAUTHORIZED)
    })

    it('closes a socket that sends no hello within the handshake timeout (4002)', async () => {
      await using s = await startServer(transport, { limits: { handshakeTimeoutMs: 100 } })
      await using raw = await rawSocket(s.url)
      const started = Date.now()
      expect((await raw.closed()).code).toBe(CloseCode.HANDSHAKE_TIMEOUT)
      expect(Date.now() - started).toBeGreaterThanOrEqual(80)
    })

    it('counts sockets in their handshake in srv.stats().handshakes until they authenticate or go', async () => {
      await using s = await startServer(transport)
      const raws = await Promise.all([0, 1, 2].map(() => rawSocket(s.url)))
      await until(() => s.srv.stats().handshakes === 3, 5_000, '3 handshakes')
      expect(s.srv.stats().connections).toBe(0)
      await raws[0]!.hello()
      await until(() => s.srv.stats().handshakes === 2 && s.srv.stats().connections === 1, 5_000, 'one authenticated')
      raws[1]!.ws.terminate()
      await raws[1]!.closed()
      await until(() => s.srv.stats().handshakes === 1, 5_000, 'one gone')
      for (const r of raws) await r[Symbol.asyncDispose]()
      await until(() => s.srv.stats().handshakes === 0 && s.srv.stats().connections === 0, 5_000, 'all gone')
    })

    it('closes a socket that sends a frame over maxFrameBytes (1009), and the server stays up', async () => {
      await using s = await startServer(transport, { limits: { maxFrameBytes: 1024 } })
      await using raw = await rawSocket(s.url)
      await raw.hello()
      raw.send({ t: 'call', id: 1, p: 'echo', d: { text: 'x'.repeat(2048) } })
      expect((await raw.closed()).code).toBe(CloseCode.MESSAGE_TOO_BIG)
      await using client = connect(s.url, 'user')
      expect(await client.call.echo({ text: 'small' })).toEqual({ text: 'small' })
    })

    it('answers malformed frames with a protocol error, without crashing, while other connections work', async () => {
      await using s = await startServer(transport)
      await using other = connect(s.url, 'user')
      await other.ready()
      await using raw = await rawSocket(s.url)
      await raw.hello()
      for (const bad of ['{not json', '[]', '{"t":"call"}', '{"t":"bogus"}', 'null', '{"t":"call","id":-1,"p":"ping"}']) raw.send(bad)
      for (let i = 0; i < 6; i++) expect(await raw.next((f) => f.t === 'error' && f.id === undefined)).toMatchObject({ code: 'BAD_REQUEST' })
      raw.send({ t: 'call', id: 9, p: 'ping', d: {} })
      expect(await raw.next((f) => f.id === 9)).toMatchObject({ t: 'result' })
      expect(await other.call.echo({ text: 'still here' })).toEqual({ text: 'still here' })
      expect(s.errors).toEqual([])
    })

    it('refuses an Origin outside the allow-list with close code 4003; the client stops for good', async () => {
      await using s = await startServer(transport, { origins: ['https://app.example'] })
      await using bad = await rawSocket(s.url, { origin: 'https://evil.example' })
      expect(await bad.closed()).toEqual({ code: CloseCode.FORBIDDEN, reason: 'origin not allowed' })
      await using ok = await rawSocket(s.url, { origin: 'https://app.example' })
      expect((await ok.hello()).t).toBe('welcome')
      await using client = connect(s.url, 'user') // Node's ws sends no Origin header
      await expect(client.ready()).rejects.toMatchObject({ code: 'FORBIDDEN' })
      expect(client.state).toBe('closed')
    })

    it('maps what authenticate throws to close codes: FORBIDDEN stops, UNAVAILABLE retries (1013)', async () => {
      let attempts = 0
      await using s = await startServer(transport, {
        authenticate: ({ auth }) => {
          const mode = (auth as { mode: string }).mode
          if (mode === 'forbidden') throw new RtError('FORBIDDEN', 'Banned')
          if (mode === 'flaky' && ++attempts < 3) throw new RtError('UNAVAILABLE', 'Auth service down')
          return { user: { id: mode, name: mode } }
        },
      })
      await using banned = connect(s.url, 'user', { auth: { mode: 'forbidden' } })
      await expect(banned.ready()).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'Banned' })
      await using raw = await rawSocket(s.url)
      raw.send({ t: 'hello', v: 1, role: 'user', auth: { mode: 'flaky' } })
      expect(await raw.closed()).toEqual({ code: CloseCode.TRY_AGAIN_LATER, reason: 'Auth service down' })
      await using flaky = connect(s.url, 'user', { auth: { mode: 'flaky' } })
      await flaky.ready()
      expect(attempts).toBe(3)
      expect((await flaky.call.whoami({})).user).toBe('flaky')
    })

    it('conn.close() from the server ends the client for good (no reconnect)', async () => {
      const disconnects: number[] = []
      await using s = await startServer(transport, { onDisconnect: (_c, _x, r) => void disconnects.push(r.code) })
      await using client = connect(s.url, 'user')
      await client.ready()
      s.srv.connections.get(client.connId!)!.close()
      await until(() => client.state === 'closed', 5_000, 'closed state')
      await new Promise((r) => setTimeout(r, 100))
      expect(s.srv.connections.size).toBe(0)
      expect(disconnects).toEqual([CloseCode.NORMAL])
      await expect(client.call.ping({})).rejects.toMatchObject({ code: 'CONNECTION_LOST' })
    })

    it('refuses a call larger than the server accepts with PAYLOAD_TOO_LARGE, keeping the connection', async () => {
      await using s = await startServer(transport, { limits: { maxFrameBytes: 4096 } })
      await using client = connect(s.url, 'user')
      await client.ready()
      const first = client.connId
      await expect(client.call.echo({ text: 'é'.repeat(3000) })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
      expect(await client.call.echo({ text: 'fits' })).toEqual({ text: 'fits' })
      expect(client.connId).toBe(first)
    })

    it('reports the real close code when a client leaves while onConnection is still running', async () => {
      const disconnects: number[] = []
      let connected = 0
      await using s = await startServer(transport, {
        onConnection: async () => {
          connected++
          await new Promise((r) => setTimeout(r, 100))
        },
        onDisconnect: (_c, _x, r) => void disconnects.push(r.code),
      })
      await using raw = await rawSocket(s.url)
      await raw.hello()
      raw.ws.close(4321, 'bye')
      await until(() => disconnects.length === 1, 5_000, 'onDisconnect')
      expect([connected, disconnects]).toEqual([1, [4321]])
      expect(s.srv.connections.size).toBe(0)
    })

    it('reconnects after a server restart with a new conn.id, running onConnection again', async () => {
      const connected: string[] = []
      const s1 = await startServer(transport, { onConnection: (c) => void connected.push(c.id) })
      const port = s1.port
      await using client = connect(s1.url, 'user')
      const states: string[] = []
      client.onStateChange((c) => states.push(c.state))
      await client.ready()
      const firstId = client.connId
      const gotMessages: string[] = []
      client.on('message', (m) => gotMessages.push(m.text))
      await s1.srv.close()
      await using s2 = await startServer(transport, { port, onConnection: (c) => void connected.push(c.id) })
      await until(() => client.state === 'open' && client.connId !== firstId, 10_000, 'reconnect')
      expect(states).toContain('reconnecting')
      expect(client.connId).not.toBe(firstId)
      expect(connected).toHaveLength(2)
      expect(connected[1]).toBe(client.connId)
      // Listeners survive the reconnect.
      await client.call.notify({})
      await until(() => gotMessages.length === 1)
      expect(s2.srv.connections.has(client.connId!)).toBe(true)
    })

    it('rejects a call in flight with CONNECTION_LOST when the server process is killed', async () => {
      await using node = await spawnNode<{ port: number }>('child-server.ts', [], childEnv)
      await using client = connect(`ws://127.0.0.1:${node.info.port}`, 'user', { reconnect: { minDelayMs: 50, maxDelayMs: 100 } })
      await client.ready()
      const inFlight = client.call.fail({ kind: 'slow' }).catch((e: unknown) => e)
      await new Promise((r) => setTimeout(r, 50))
      node.child.kill('SIGKILL')
      const err = (await inFlight) as RtError
      expect(err).toBeInstanceOf(RtError)
      expect(err.code).toBe('CONNECTION_LOST')
      await until(() => client.state === 'reconnecting', 5_000, 'reconnecting state')
    })

    it('holds a call made while offline until the next connection, or fails it at once with offline: "fail"', async () => {
      const s1 = await startServer(transport)
      const port = s1.port
      await using client = connect(s1.url, 'user')
      await client.ready()
      await s1.srv.close()
      await until(() => client.state === 'reconnecting')
      await expect(client.call.ping({}, { offline: 'fail' })).rejects.toMatchObject({ code: 'CONNECTION_LOST' })
      const waiting = client.call.echo({ text: 'queued' })
      await new Promise((r) => setTimeout(r, 100))
      await using s2 = await startServer(transport, { port })
      expect(await waiting).toEqual({ text: 'queued' })
      expect(s2.srv.connections.size).toBe(1)
    })

    it('graceful close: in-flight calls finish, clients are told to go and reconnect elsewhere', async () => {
      await using a = await startServer(transport)
      await using b = await startServer(transport)
      const urls = [a.url, b.url]
      let n = 0
      await using client = connect(() => urls[Math.min(n++, 1)]!, 'user')
      await client.ready()
      expect(client.nodeId).toBe(a.srv.nodeId)
      const disconnects: number[] = []
      const slow = client.call.fail({ kind: 'slow' })
      await new Promise((r) => setTimeout(r, 50))
      const closing = a.srv.close()
      expect(await slow).toEqual({ ok: true })
      await closing
      await until(() => client.state === 'open' && client.nodeId === b.srv.nodeId, 5_000, 'move to node b')
      expect(await client.call.ping({})).toHaveProperty('at')
      void disconnects
    })

    it('fails calls that outlive the close timeout with UNAVAILABLE, never silently', async () => {
      const s = await startServer(transport, { limits: { closeTimeoutMs: 50 } })
      await using client = connect(s.url, 'user', { reconnect: false })
      await client.ready()
      const slow = client.call.fail({ kind: 'slow' }).catch((e: unknown) => e)
      await new Promise((r) => setTimeout(r, 20))
      await s.srv.close()
      expect(((await slow) as RtError).code).toBe('UNAVAILABLE')
    })

    it('server drops a connection that stops answering pings (4004)', async () => {
      const reasons: number[] = []
      await using s = await startServer(transport, {
        limits: { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 150 },
        onDisconnect: (_c, _ctx, r) => void reasons.push(r.code),
      })
      await using raw = await rawSocket(s.url) // a raw socket never answers application pings
      await raw.hello()
      await raw.next((f) => f.t === 'ping')
      expect((await raw.closed()).code).toBe(CloseCode.HEARTBEAT_TIMEOUT)
      expect(reasons).toEqual([CloseCode.HEARTBEAT_TIMEOUT])
    })

    it('client detects a silent server (half-open link) and reconnects', async () => {
      // A fake server that welcomes, then never speaks again: the client must not wait forever.
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
      await once(wss, 'listening')
      let accepted = 0
      wss.on('connection', (ws) => {
        accepted++
        // In the codec the client asked for (the suites also run with MessagePack clients).
        const welcome = { t: 'welcome', v: 1, conn: `c${accepted}`, node: 'fake', hb: 50, mf: 1 << 20 } as const
        ws.on('message', () => ws.send(ws.protocol === 'rt.msgpack' ? msgpackEncoder.encode(welcome) : JSON.stringify(welcome)))
      })
      const port = (wss.address() as { port: number }).port
      await using client = connect(`ws://127.0.0.1:${port}`, 'user')
      await client.ready()
      const pending = client.call.ping({}).catch((e: unknown) => e)
      expect(((await pending) as RtError).code).toBe('CONNECTION_LOST')
      await until(() => accepted >= 2, 5_000, 'second connection')
      await client.close()
      for (const c of wss.clients) c.terminate()
      await new Promise((r) => wss.close(r))
    })

    it('closes a slow consumer (4005) and keeps server memory bounded', async () => {
      const reasons: number[] = []
      await using s = await startServer(transport, {
        limits: { maxBufferedBytes: 256 * 1024 },
        onDisconnect: (_c, _ctx, r) => void reasons.push(r.code),
      })
      await using raw = await rawSocket(s.url)
      await raw.hello()
      // Stop reading: the kernel buffers fill, then the server's.
      ;(raw.ws as unknown as { _socket: { pause(): void } })._socket.pause()
      raw.send({ t: 'call', id: 1, p: 'burst', d: { count: 2_000, size: 8_000 } })
      await until(() => reasons.length === 1, 10_000, 'slow consumer close')
      expect(reasons).toEqual([CloseCode.SLOW_CONSUMER])
      expect(s.srv.connections.size).toBe(0)
    })
  })
}
