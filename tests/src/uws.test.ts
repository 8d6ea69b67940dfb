import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CloseCode, type RtError } from '@rt/contract'
import { createUwsTransport } from '@rt/transport-uws'
import { describe, expect, it, vi } from 'vitest'
import { memoryBuses } from './bus-sets.js'
import { connect, sleep, startServer, until } from './harness.js'
import { rawSocket } from './raw.js'
import { describeCluster } from './suites/cluster.js'
import { describeAuthRefresh } from './suites/auth-refresh.js'
import { describeEvents } from './suites/events.js'
import { describeHardening } from './suites/hardening.js'
import { describeLifecycle } from './suites/lifecycle.js'
import { describeRpc } from './suites/rpc.js'
import { describeTopics } from './suites/topics.js'
import { uwsTransport } from './uws-transport.js'

describeRpc('uWebSockets.js', uwsTransport)
describeEvents('uWebSockets.js', uwsTransport)
describeLifecycle('uWebSockets.js', uwsTransport, { RT_TRANSPORT: 'uws' })
describeCluster('the memory bus over uWebSockets.js', memoryBuses, uwsTransport)
describeTopics('the memory bus over uWebSockets.js', memoryBuses, uwsTransport)
describeHardening('uWebSockets.js', uwsTransport)
describeAuthRefresh('uWebSockets.js', uwsTransport)

describe('native pub/sub over uWebSockets.js', () => {
  /** A uWS transport whose `publish` (native fan-out) is counted. */
  function spied() {
    const transport = uwsTransport()
    const publish = vi.spyOn(transport, 'publish')
    return { factory: () => transport, publish }
  }

  it('fans a room broadcast out to every local member with one app.publish; each gets it once', async () => {
    const { factory, publish } = spied()
    await using s = await startServer(factory)
    const members = Array.from({ length: 6 }, (_, k) => connect(s.url, k % 2 ? 'agent' : 'user', { auth: { name: `m${k}` } }))
    await using outsider = connect(s.url, 'user', { auth: { name: 'out' } })
    const got = members.map(() => [] as string[])
    const outsiderGot: string[] = []
    members.forEach((m, k) => m.on('message', (msg) => got[k]!.push(msg.text)))
    outsider.on('message', (msg) => outsiderGot.push(msg.text))
    await Promise.all([...members, outsider].map((m) => m.ready()))
    for (const m of members) s.srv.room('r').add(s.srv.connections.get(m.connId!)!)
    publish.mockClear()
    s.srv.room('r').broadcast('message', { room: 'r', text: 'once', from: 's' })
    expect(publish).toHaveBeenCalledTimes(1)
    await until(() => got.every((g) => g.length === 1), 5_000, 'deliveries')
    await Promise.all([...members, outsider].map((m) => m.call.ping({}))) // anything extra would have arrived by now
    expect(got).toEqual(members.map(() => ['once']))
    expect(outsiderGot).toEqual([])
    await Promise.all(members.map((m) => m.close()))
  })

  it('fans a topic publish out with one app.publish', async () => {
    const { factory, publish } = spied()
    await using s = await startServer(factory)
    const clients = Array.from({ length: 4 }, (_, k) => connect(s.url, 'user', { auth: { name: `u${k}` } }))
    const got = clients.map(() => [] as string[])
    await Promise.all(clients.map((c, k) => c.subscribe('news', (n) => got[k]!.push(n.headline)).ready))
    publish.mockClear()
    s.srv.publish('news', { headline: 'one' })
    expect(publish).toHaveBeenCalledTimes(1)
    await until(() => got.every((g) => g.length === 1), 5_000, 'deliveries')
    expect(got).toEqual(clients.map(() => ['one']))
    await Promise.all(clients.map((c) => c.close()))
  })

  it('keeps send order between direct sends and native publishes to one connection', async () => {
    await using s = await startServer(uwsTransport)
    await using client = connect(s.url, 'user')
    const texts: string[] = []
    client.on('message', (m) => texts.push(m.text))
    await client.ready()
    const conn = s.srv.connections.get(client.connId!)!
    s.srv.room('r').add(conn)
    const expected: string[] = []
    for (let i = 0; i < 300; i++) {
      const text = String(i)
      expected.push(text)
      if (i % 3 === 0) s.srv.room('r').broadcast('message', { room: 'r', text, from: 'room' })
      else conn.emit('message', { room: 'r', text, from: 'conn' })
      if (i % 50 === 0) await sleep(1)
    }
    await until(() => texts.length === 300, 5_000, 'all messages')
    expect(texts).toEqual(expected)
  })

  it('closes a slow room member with 4005 rather than dropping its messages; the others get every one', async () => {
    const reasons: [string, number][] = []
    await using s = await startServer(uwsTransport, {
      limits: { maxBufferedBytes: 256 * 1024 },
      onDisconnect: (_c, ctx, r) => void reasons.push([ctx.user.id, r.code]),
    })
    await using slow = await rawSocket(s.url)
    const { conn: slowId } = await slow.hello('user', { name: 'slow' })
    await using fast = connect(s.url, 'user', { auth: { name: 'fast' } })
    let received = 0
    let inOrder = true
    fast.on('message', (m) => void (inOrder &&= m.text.startsWith(`${received++}:`)))
    await fast.ready()
    for (const id of [slowId, fast.connId!]) s.srv.room('r').add(s.srv.connections.get(id)!)
    // Stop reading: the kernel buffers fill, then uWS's.
    ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const pad = 'x'.repeat(8_000)
    let sent = 0
    while (s.srv.connections.has(slowId) && sent < 5_000) {
      for (let k = 0; k < 20; k++) s.srv.room('r').broadcast('message', { room: 'r', text: `${sent++}:${pad}`, from: 's' })
      await sleep(1) // let the fast member read
    }
    await until(() => reasons.length === 1, 10_000, 'slow consumer close')
    expect(reasons).toEqual([['slow', CloseCode.SLOW_CONSUMER]])
    await until(() => received === sent, 10_000, 'fast member deliveries')
    expect(inOrder).toBe(true)
    expect(fast.state).toBe('open')
    // Read again: the slow member gets an unbroken run of messages, then the 4005 close. No gap.
    ;(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume()
    expect((await slow.closed()).code).toBe(CloseCode.SLOW_CONSUMER)
    const texts = slow.frames.filter((f) => f.t === 'event').map((f) => (f.d.text as string).split(':')[0])
    expect(texts.length).toBeGreaterThan(0)
    expect(texts).toEqual(texts.map((_, i) => String(i)))
  })
})

describe('the uWebSockets.js transport', () => {
  it('takes upgrades on its path only (404 elsewhere, 426 for plain HTTP) and hands url, headers and address to authenticate', async () => {
    const seen: { url: string; host: string | undefined; address: string }[] = []
    await using s = await startServer(() => createUwsTransport({ port: 0, host: '127.0.0.1', path: '/rt' }), {
      authenticate: ({ request }) => {
        seen.push({ url: request.url, host: request.headers.host, address: request.remoteAddress })
        return { user: { id: 'u', name: 'u' } }
      },
    })
    await expect(rawSocket(`${s.url}/other`)).rejects.toMatchObject({ status: 404 })
    expect((await fetch(`http://127.0.0.1:${s.port}/rt`)).status).toBe(426)
    await using raw = await rawSocket(`${s.url}/rt?v=1`)
    await raw.hello()
    expect(seen).toEqual([{ url: '/rt?v=1', host: `127.0.0.1:${s.port}`, address: '127.0.0.1' }])
  })

  it('holds its port exclusively, and close() is idempotent', async () => {
    const first = uwsTransport()
    await using s = await startServer(() => first)
    const second = createUwsTransport({ port: s.port, host: '127.0.0.1' })
    await expect(second.listen({ upgrade: () => true, open: () => ({ message() {}, close() {} }) }, { maxFrameBytes: 1024, maxBufferedBytes: 1 << 20 })).rejects.toThrow(/could not listen/)
    await s.srv.close() // closes `first`
    await first.close()
    await second.close()
  })

  it('refuses upgrades with HTTP 503 while the server drains', async () => {
    const s = await startServer(uwsTransport)
    await using client = connect(s.url, 'user', { reconnect: false })
    await client.ready()
    const slow = client.call.fail({ kind: 'slow' }).catch((e: unknown) => e as RtError)
    await sleep(20)
    const closing = s.srv.close()
    await expect(rawSocket(s.url)).rejects.toMatchObject({ status: 503 })
    await closing
    expect(await slow).toEqual({ ok: true })
  })
})

describe('loading uWebSockets.js', () => {
  it("refuses the npm republish's JavaScript fallback with a clear error, never running on it", async () => {
    const script = `import { createUwsTransport } from '@rt/transport-uws'
      try { createUwsTransport({ port: 0 }); console.log('CREATED') } catch (e) { console.log('ERROR ' + e.message) }`
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@rt/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
    })
    expect(stdout).toContain('ERROR @rt/transport-uws: uWebSockets.js loaded its JavaScript fallback instead of a native binary')
    expect(stdout).not.toContain('CREATED')
  })
})
