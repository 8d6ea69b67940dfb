// A contract and a real @rt server (ws on a loopback port, in-memory bus) for the hook tests.
import WebSocket from 'ws'
import * as z from 'zod'
import { defineContract } from '@rt/contract'
import { createClient, type Client } from '@rt/client'
import { createMemoryHistory, createServer } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { sleep, until as poll } from '../harness.js'

export const contract = defineContract({
  shared: {
    serverToClient: {
      news: { payload: z.object({ headline: z.string() }), subscribe: true },
      message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) },
    },
  },
  roles: {
    user: {
      clientToServer: {
        joinRoom: { input: z.object({ room: z.string() }), output: z.object({ members: z.number() }) },
        /** Answers when the server is told to (`release`), so a test can keep it in flight. */
        slow: { input: z.object({ id: z.string() }), output: z.object({ id: z.string() }) },
        ping: { input: z.void(), output: z.object({ at: z.number() }) },
      },
      serverToClient: {
        ticker: { payload: z.object({ symbol: z.string(), price: z.number() }), subscribe: true, params: z.object({ symbol: z.string() }) },
        feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room: z.string() }), history: { size: 100 } },
      },
    },
    admin: {
      clientToServer: { kick: { input: z.object({ user: z.string() }), output: z.object({ ok: z.boolean() }) } },
    },
  },
})
export type Contract = typeof contract
export type UserClient = Client<Contract, 'user'>

export { sleep }

/** The harness's `until`, with what is awaited named before the timeout, as these tests read. */
export const until = <T>(fn: () => T, what: string, timeoutMs = 5_000) => poll(fn, timeoutMs, what)

/** A server on a free port; `slow` calls wait in `pending` until released; `clients` made here are closed with it. */
export async function reactServer() {
  const pending = new Map<string, () => void>()
  const slowStarted: string[] = []
  // Outlives a restart, as a database would: a client that comes back recovers from it.
  const history = createMemoryHistory()
  const start = (port: number) => {
    const srv = createServer({
      contract,
      history,
      // `SECRET` is refused: a subscription the server says no to.
      topics: { user: { ticker: { authorize: ({ symbol }) => symbol !== 'SECRET' } } },
      transport: createWsTransport({ host: '127.0.0.1', port }),
      authenticate: ({ auth }) => ({ user: { id: String((auth as { name?: string } | undefined)?.name ?? 'anon') } }),
      handlers: {
        user: {
          joinRoom: ({ room }, ctx, conn) => {
            srv.room(room).add(conn)
            srv.room(room).broadcast('message', { room, text: 'joined', from: ctx.user.id })
            return { members: 1 }
          },
          slow: ({ id }) => {
            slowStarted.push(id)
            return new Promise((resolve) => pending.set(id, () => resolve({ id })))
          },
          ping: () => ({ at: Date.now() }),
        },
        admin: { kick: () => ({ ok: true }) },
      },
    })
    return srv
  }
  let srv = start(0)
  const { port } = await srv.listen()
  const url = `ws://127.0.0.1:${port}`
  const clients: UserClient[] = []
  /** Subscriptions the server holds for a topic (one per connection per stream). */
  const subscribers = (topic: string) => srv.stats().topics[topic] ?? 0
  return {
    get srv() {
      return srv
    },
    url,
    slowStarted,
    subscribers,
    release: (id: string) => pending.get(id)?.(),
    /** Closes the server (its clients start reconnecting) and starts a new one on the same port. */
    async restart() {
      await srv.close()
      srv = start(port)
      await srv.listen()
    },
    client(name = 'ann'): UserClient {
      const c = createClient(contract, { url, role: 'user', auth: { name }, WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 } })
      clients.push(c)
      return c
    },
    async [Symbol.asyncDispose]() {
      for (const r of pending.values()) r()
      await Promise.all(clients.map((c) => c.close()))
      await srv.close()
    },
  }
}
