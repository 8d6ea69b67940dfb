// How the client behaves when it cannot connect: the backoff after a graceful close (goaway),
// and what it says about why (client.lastError, state-change details, call timeouts, the final
// error after maxAttempts). Real sockets only: closed ports, plain HTTP, wrong paths, non-@rt peers.
import { once } from 'node:events'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { CloseCode, RtError } from '@rt/contract'
import type { StateChange, WebSocketConstructor } from '@rt/client'
import { createWsTransport } from '@rt/transport-ws'
import { createUwsTransport } from '@rt/transport-uws'
import { connect, sleep, startServer, until, wsTransport, type TransportFactory } from './harness.js'
import { uwsTransport } from './uws-transport.js'

const transports: [string, TransportFactory][] = [
  ['ws', wsTransport],
  ['uWebSockets.js', uwsTransport],
]

async function listen(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
}

/** An HTTP server on `port` that answers every WebSocket upgrade with 503, counting them. */
async function refusing(port: number) {
  const server = createHttpServer((_req, res) => res.writeHead(503).end())
  const at: number[] = []
  server.on('upgrade', (_req, socket) => {
    at.push(Date.now())
    socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })
  await listen(server, port)
  return { at, [Symbol.asyncDispose]: () => closeServer(server) }
}

/** A free loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createHttpServer()
  const port = await listen(server)
  await closeServer(server)
  return port
}

/** The ws package's WebSocket, counting every connection attempt. */
function countingWebSocket() {
  const at: number[] = []
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url)
      at.push(Date.now())
    }
  }
  return { at, WebSocket: Counting as unknown as WebSocketConstructor }
}

/** A WebSocket that behaves as browsers do on a failed connection: a bare error Event, then 1006. */
class BrowserLikeRefused {
  readyState = 0
  binaryType = 'blob'
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: unknown) => void) | null = null
  onclose: ((ev: unknown) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  constructor(url: string) {
    const ws = new WebSocket(url)
    ws.on('error', () => {}) // the detail a browser keeps to itself
    ws.on('close', () => {
      this.readyState = 3
      this.onerror?.({ type: 'error' })
      this.onclose?.({ code: 1006, reason: '', wasClean: false })
    })
  }
  send() {}
  close() {}
}

const reconnect = { minDelayMs: 200, maxDelayMs: 2_000 }

describe('client backoff after a graceful server close', () => {
  for (const [name, transport] of transports) {
    it(`over ${name}: one immediate retry after goaway, then exponential backoff (a port answering 503)`, async () => {
      const s = await startServer(transport)
      await using client = connect(s.url, 'user', { reconnect })
      await client.ready()
      await s.srv.close() // goaway, then 1001
      await using down = await refusing(s.port)
      const closedAt = Date.now()
      await sleep(3_000)
      const attempts = down.at.filter((t) => t >= closedAt)
      // The first retry goes at once (within minDelayMs of the close).
      expect(attempts.length).toBeGreaterThanOrEqual(2)
      expect(attempts[0]! - closedAt).toBeLessThan(reconnect.minDelayMs + 300)
      // Without backoff (delays in [0, 200] ms) 3 s hold about 30 attempts; with it about 6.
      expect(attempts.length, `${attempts.length} attempts in 3 s`).toBeLessThan(13)
      expect(client.state).toBe('reconnecting')
      expect(client.lastError).toMatchObject({ code: 'CONNECTION_LOST', data: { detail: 'HTTP 503' } })
    })
  }

  it('backs off after a graceful close against a closed port too, and the retries reach a restarted node', async () => {
    const s = await startServer(wsTransport)
    const counting = countingWebSocket()
    await using client = connect(s.url, 'user', { WebSocket: counting.WebSocket, reconnect })
    await client.ready()
    const before = counting.at.length
    await s.srv.close()
    const closedAt = Date.now()
    await sleep(3_000)
    const attempts = counting.at.length - before
    expect(attempts).toBeGreaterThanOrEqual(2)
    expect(attempts, `${attempts} attempts in 3 s`).toBeLessThan(13)
    expect(counting.at[before]! - closedAt).toBeLessThan(reconnect.minDelayMs + 300)
    expect(client.lastError?.data).toMatchObject({ detail: expect.stringContaining('ECONNREFUSED') })
    await using s2 = await startServer(wsTransport, { port: s.port })
    await until(() => client.state === 'open', 10_000, 'reconnect to the restarted node')
    expect(client.lastError).toBeUndefined()
    expect(s2.srv.connections.size).toBe(1)
  })
})

describe('a client that cannot connect says why', () => {
  it('nothing listening: ECONNREFUSED in lastError, in the state change, and in a call timeout', async () => {
    const port = await closedPort()
    const url = `ws://127.0.0.1:${port}`
    await using client = connect(url, 'user', { reconnect: { minDelayMs: 50, maxDelayMs: 100 } })
    const changes: StateChange[] = []
    client.onStateChange((c) => changes.push(c))
    await until(() => changes.length > 0, 5_000, 'a state change')
    expect(changes[0]).toMatchObject({ state: 'connecting', code: 1006, error: expect.any(RtError) })
    expect(changes[0]!.error!.message).toContain('ECONNREFUSED')
    expect(client.state).toBe('connecting')
    const err = client.lastError!
    expect(err).toBeInstanceOf(RtError)
    expect(err.code).toBe('CONNECTION_LOST')
    expect(err.message).toBe(`Could not connect to ${url}: connect ECONNREFUSED 127.0.0.1:${port}`)
    expect(err.data).toMatchObject({ url, detail: `connect ECONNREFUSED 127.0.0.1:${port}`, code: 1006 })
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED')
    const timedOut = (await client.call.ping({}, { timeout: 300 }).catch((e: unknown) => e)) as RtError
    expect(timedOut.code).toBe('TIMEOUT')
    expect(timedOut.message).toBe(`Call "ping" timed out after 300 ms: not connected (connect ECONNREFUSED 127.0.0.1:${port})`)
    await expect(client.call.ping({}, { offline: 'fail' })).rejects.toThrow(`Not connected (connect ECONNREFUSED 127.0.0.1:${port})`)
  })

  it('a plain HTTP server: HTTP 200, the server does not upgrade', async () => {
    const server = createHttpServer((_req, res) => res.end('hello'))
    const port = await listen(server)
    try {
      await using client = connect(`ws://127.0.0.1:${port}`, 'user', { reconnect: { minDelayMs: 50, maxDelayMs: 100 } })
      const error = (await until(() => client.lastError, 5_000, 'lastError'))!
      expect(error.data).toMatchObject({ detail: 'HTTP 200' })
      expect(error.message).toBe(`Could not connect to ws://127.0.0.1:${port}: HTTP 200 (the server answered without upgrading to WebSocket)`)
    } finally {
      await closeServer(server)
    }
  })

  for (const [name, factory] of [
    ['ws', () => createWsTransport({ port: 0, host: '127.0.0.1', path: '/rt' })],
    ['uWebSockets.js', () => createUwsTransport({ port: 0, host: '127.0.0.1', path: '/rt' })],
  ] as const) {
    it(`a wrong path on an @rt server over ${name}: HTTP 404; the right path connects`, async () => {
      await using s = await startServer(factory)
      await using wrong = connect(`${s.url}/wrong?token=secret`, 'user', { reconnect: { minDelayMs: 50, maxDelayMs: 100 } })
      const error = (await until(() => wrong.lastError, 5_000, 'lastError'))!
      expect(error.data).toMatchObject({ detail: 'HTTP 404', url: `${s.url}/wrong` })
      expect(error.message).not.toContain('secret') // the query may carry credentials
      await using right = connect(`${s.url}/rt`, 'user')
      await right.ready()
      expect(right.lastError).toBeUndefined()
    })
  }

  it('a WebSocket peer that never sends welcome: "not an @rt server" after handshakeTimeoutMs', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await once(wss, 'listening')
    const port = (wss.address() as AddressInfo).port
    try {
      await using client = connect(`ws://127.0.0.1:${port}`, 'user', { handshakeTimeoutMs: 300, reconnect: { minDelayMs: 50, maxDelayMs: 100 } })
      const changes: StateChange[] = []
      client.onStateChange((c) => changes.push(c))
      const error = (await until(() => client.lastError, 5_000, 'lastError'))!
      expect(error.data).toMatchObject({ detail: 'not an @rt server (no welcome within 300 ms)' })
      expect(changes[0]).toMatchObject({ state: 'connecting', error })
      expect(client.state).not.toBe('open')
    } finally {
      for (const c of wss.clients) c.terminate()
      await new Promise((r) => wss.close(r))
    }
  })

  it('a WebSocket peer that sends something else: "not an @rt server" at once', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    wss.on('connection', (ws) => ws.send('{"hello":"I am an echo server"}'))
    await once(wss, 'listening')
    const port = (wss.address() as AddressInfo).port
    try {
      await using client = connect(`ws://127.0.0.1:${port}`, 'user', { reconnect: { minDelayMs: 50, maxDelayMs: 100 } })
      const error = (await until(() => client.lastError, 2_000, 'lastError'))!
      expect(error.data).toMatchObject({ detail: 'not an @rt server (it sent a frame that is not @rt protocol)' })
    } finally {
      for (const c of wss.clients) c.terminate()
      await new Promise((r) => wss.close(r))
    }
  })

  it('a peer that accepts TCP but never answers the upgrade: "no answer within handshakeTimeoutMs", then a retry', async () => {
    const held: Socket[] = []
    const silent = createNetServer((socket) => void held.push(socket))
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    const port = (silent.address() as AddressInfo).port
    try {
      const counting = countingWebSocket()
      await using client = connect(`ws://127.0.0.1:${port}`, 'user', { WebSocket: counting.WebSocket, handshakeTimeoutMs: 200, reconnect: { minDelayMs: 20, maxDelayMs: 50 } })
      const error = (await until(() => client.lastError, 5_000, 'lastError'))!
      expect(error.data).toMatchObject({ detail: 'no answer within 200 ms' })
      await until(() => counting.at.length >= 3, 5_000, 'retries') // abandoning a CONNECTING socket must not crash
      expect(client.state).toBe('connecting')
    } finally {
      for (const socket of held) socket.destroy()
      await new Promise((r) => silent.close(r))
    }
  })

  it('a browser WebSocket gives no detail: say so, with close code 1006', async () => {
    const port = await closedPort()
    await using client = connect(`ws://127.0.0.1:${port}`, 'user', {
      WebSocket: BrowserLikeRefused as unknown as WebSocketConstructor,
      reconnect: { minDelayMs: 50, maxDelayMs: 100 },
    })
    const error = (await until(() => client.lastError, 5_000, 'lastError'))!
    expect(error.data).toMatchObject({ detail: 'could not connect (no detail from the browser)', code: 1006 })
    expect(error.message).toBe(`Could not connect to ws://127.0.0.1:${port}: could not connect (no detail from the browser), close code 1006`)
  })

  it('with maxAttempts, the final error carries the server reason (authenticate threw UNAVAILABLE: 1013)', async () => {
    await using s = await startServer(wsTransport, {
      authenticate: () => {
        throw new RtError('UNAVAILABLE', 'auth service down')
      },
    })
    await using client = connect(s.url, 'user', { reconnect: { minDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } })
    const changes: StateChange[] = []
    client.onStateChange((c) => changes.push(c))
    const err = (await client.ready().catch((e: unknown) => e)) as RtError
    expect(err).toBeInstanceOf(RtError)
    expect(err.code).toBe('CONNECTION_LOST')
    expect(err.message).toBe(`Could not connect to ${s.url} after 3 attempts: closed by the server with ${CloseCode.TRY_AGAIN_LATER} (auth service down)`)
    expect(err.data).toMatchObject({ code: CloseCode.TRY_AGAIN_LATER, reason: 'auth service down', attempts: 3 })
    expect(changes.at(-1)).toMatchObject({ state: 'closed', code: CloseCode.TRY_AGAIN_LATER, reason: 'auth service down', error: err })
    expect(client.lastError).toBe(err)
    await expect(client.call.ping({})).rejects.toBe(err)
  })

  it('reconnect: false gives up after the first failed attempt, with the reason', async () => {
    const port = await closedPort()
    await using client = connect(`ws://127.0.0.1:${port}`, 'user', { reconnect: false })
    await expect(client.ready()).rejects.toThrow(`Could not connect to ws://127.0.0.1:${port} after 1 attempt: connect ECONNREFUSED 127.0.0.1:${port}`)
  })
})
