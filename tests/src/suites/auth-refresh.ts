import { describe, expect, it } from 'vitest'
import { CloseCode, RtError } from '@rt/contract'
import type { StateChange } from '@rt/client'
import type { AuthenticateInput } from '@rt/server'
import type { TestContract } from '../fixtures.js'
import { connect, defaultHandlers, sleep, startServer, until, type Ctx, type TransportFactory } from '../harness.js'
import { rawSocket } from '../raw.js'

/** `auth` of these tests: `name` is the user id, `label` the ctx's `user.name`, `ttl` makes the credentials expire. */
interface Auth {
  name: string
  label?: string
  ttl?: number
  token?: string
  delayMs?: number
}

/** A server whose credentials expire `ttl` ms after each authentication, and whose `echo` answers the caller's `ctx.user.name`. */
async function refreshingServer(transport: TransportFactory, seen: { refresh: boolean }[] = []) {
  const defaults = defaultHandlers()
  return startServer(transport, {
    authenticate: async ({ auth, refresh }: AuthenticateInput<TestContract>) => {
      const a = auth as Auth
      seen.push({ refresh: refresh === true })
      if (a.delayMs) await sleep(a.delayMs)
      if (a.token === 'bad') throw new RtError('UNAUTHORIZED', 'Bad token')
      if (a.token === 'down') throw new RtError('UNAVAILABLE', 'auth service down')
      const ctx: Ctx & { expiresAt?: number } = { user: { id: a.name, name: a.label ?? a.name } }
      if (a.ttl !== undefined) ctx.expiresAt = Date.now() + a.ttl
      return ctx
    },
    handlers: { ...defaults, shared: { ...defaults.shared, echo: (_input, ctx) => ({ text: ctx.user.name }) } },
  })
}

/** Refreshing credentials on an open connection: the server's `refresh`, the client's `auth`, `client.refreshAuth()`. */
export function describeAuthRefresh(name: string, transport: TransportFactory) {
  describe(`credential refresh over ${name}`, () => {
    it('asks for fresh credentials before they expire and replaces ctx, on the same connection with its subscriptions and rooms', async () => {
      const seen: { refresh: boolean }[] = []
      await using s = await refreshingServer(transport, seen)
      let calls = 0
      await using client = connect(s.url, 'user', { auth: () => ({ name: 'ann', label: `v${++calls}`, ttl: 300 }) })
      const news: string[] = []
      const messages: string[] = []
      await client.subscribe('news', (n) => news.push(n.headline)).ready
      client.on('message', (m) => messages.push(m.text))
      const connId = client.connId!
      s.srv.room('r').add(s.srv.connections.get(connId)!)
      // The client has made the 4th credentials before the server has applied them: wait for the server.
      await until(() => calls >= 4 && Number(s.srv.connections.get(connId)?.ctx.user.name.slice(1)) >= 4, 5_000, 'three refreshes applied')
      const { text } = await client.call.echo({ text: '' })
      expect(Number(text.slice(1))).toBeGreaterThanOrEqual(4)
      expect(client.connId).toBe(connId)
      expect(s.srv.connections.get(connId)!.ctx.user.name).toBe(text)
      expect(seen[0]).toEqual({ refresh: false })
      expect(seen.slice(1).every((x) => x.refresh)).toBe(true)
      s.srv.publish('news', { headline: 'still here' })
      s.srv.room('r').broadcast('message', { room: 'r', text: 'room too', from: 's' })
      await until(() => news.length === 1 && messages.length === 1, 5_000, 'deliveries')
      expect([news, messages]).toEqual([['still here'], ['room too']])
      expect(client.state).toBe('open')
    })

    it('closes with 4001 when authenticate refuses a refresh; the client stops with UNAUTHORIZED', async () => {
      const seen: { refresh: boolean }[] = []
      await using s = await refreshingServer(transport, seen)
      let calls = 0
      await using client = connect(s.url, 'user', { auth: () => (++calls === 1 ? { name: 'ann', ttl: 300 } : { name: 'ann', token: 'bad' }) })
      const changes: StateChange[] = []
      client.onStateChange((c) => changes.push(c))
      await client.ready()
      await until(() => client.state === 'closed', 5_000, 'the close')
      expect(changes.at(-1)).toMatchObject({ state: 'closed', code: CloseCode.UNAUTHORIZED, reason: 'Bad token' })
      await expect(client.call.ping({})).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'Bad token' })
      await sleep(100)
      expect(seen).toHaveLength(2) // no reconnection
    })

    it('closes with 1013 when authenticate reports a passing failure on a refresh; the client reconnects with fresh credentials', async () => {
      await using s = await refreshingServer(transport)
      let calls = 0
      const auth = (): Auth => (++calls === 1 ? { name: 'ann', ttl: 300 } : calls === 2 ? { name: 'ann', token: 'down' } : { name: 'ann', ttl: 60_000 })
      await using client = connect(s.url, 'user', { auth })
      await client.ready()
      const changes: StateChange[] = []
      client.onStateChange((c) => void changes.push(c))
      const first = client.connId
      await until(() => calls === 3 && client.state === 'open', 5_000, 'the reconnection')
      expect(changes[0]).toMatchObject({ state: 'reconnecting', code: CloseCode.TRY_AGAIN_LATER, reason: 'auth service down' })
      expect(client.connId).not.toBe(first)
    })

    it('closes a connection that does not answer with 4001 at the expiry, after a refresh frame carrying it', async () => {
      await using s = await refreshingServer(transport)
      await using raw = await rawSocket(s.url)
      const started = Date.now()
      const welcome = await raw.hello('user', { name: 'old', ttl: 300 })
      expect(welcome.x).toBeGreaterThan(started)
      const refresh = await raw.next((f) => f.t === 'refresh')
      expect(refresh).toEqual({ t: 'refresh', x: welcome.x })
      expect(await raw.closed()).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'credentials expired' })
      expect(Date.now()).toBeGreaterThanOrEqual(welcome.x - 50)
      expect(s.srv.connections.size).toBe(0)
      // Credentials already expired at the hello are refused there.
      await using late = await rawSocket(s.url)
      late.send({ t: 'hello', v: 1, role: 'user', auth: { name: 'late', ttl: -1 } })
      expect(await late.closed()).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'credentials expired' })
    })

    it('refuses a refresh that changes the user (4001)', async () => {
      await using s = await refreshingServer(transport)
      await using raw = await rawSocket(s.url)
      await raw.hello('user', { name: 'ann', ttl: 60_000 })
      raw.send({ t: 'auth', id: 1, auth: { name: 'bob', ttl: 60_000 } })
      expect(await raw.closed()).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'refresh changed the user' })
    })

    it('answers auth frames it cannot take with an error and keeps the connection: no expiry, malformed, one already running', async () => {
      await using s = await refreshingServer(transport)
      await using plain = await rawSocket(s.url)
      await plain.hello('user', { name: 'ann' })
      plain.send({ t: 'auth', id: 1, auth: { name: 'ann' } })
      expect(await plain.next((f) => f.t === 'error')).toMatchObject({ id: 1, code: 'BAD_REQUEST' })
      plain.send({ t: 'auth', auth: { name: 'ann' } })
      expect(await plain.next((f) => f.t === 'error')).toEqual({ t: 'error', code: 'BAD_REQUEST', message: 'Malformed frame' })
      await using raw = await rawSocket(s.url)
      await raw.hello('user', { name: 'ann', ttl: 60_000 })
      raw.send({ t: 'auth', id: 2, auth: { name: 'ann', ttl: 120_000, delayMs: 50 } })
      raw.send({ t: 'auth', id: 3, auth: { name: 'ann', ttl: 120_000 } })
      expect(await raw.next((f) => f.id === 3)).toMatchObject({ t: 'error', code: 'CONFLICT' })
      const authed = await raw.next((f) => f.id === 2)
      expect(authed.t).toBe('authed')
      expect(authed.x).toBeGreaterThan(Date.now() + 60_000)
      for (const r of [plain, raw]) {
        r.send({ t: 'call', id: 9, p: 'ping', d: {} })
        expect(await r.next((f) => f.id === 9)).toMatchObject({ t: 'result' })
      }
    })

    it('client.refreshAuth() pushes new credentials and resolves; refused, it rejects UNAUTHORIZED and the client stops', async () => {
      await using s = await refreshingServer(transport)
      let auth: Auth = { name: 'ann', label: 'first', ttl: 60_000 }
      await using client = connect(s.url, 'user', { auth: () => auth })
      await client.ready()
      const connId = client.connId
      auth = { name: 'ann', label: 'second', ttl: 60_000 }
      await client.refreshAuth()
      expect(await client.call.echo({ text: '' })).toEqual({ text: 'second' })
      expect(client.connId).toBe(connId)
      auth = { name: 'ann', token: 'bad' }
      const err = await client.refreshAuth().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RtError)
      expect(err).toMatchObject({ code: 'UNAUTHORIZED', message: 'Bad token' })
      expect(client.state).toBe('closed')
      await expect(client.refreshAuth()).rejects.toMatchObject({ code: 'CONNECTION_LOST' })
    })
  })
}
