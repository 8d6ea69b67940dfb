import WebSocket from 'ws'
import { RtError } from '@rt/contract'
import { createClient, type ClientOptions } from '@rt/client'
import { createServer, type Bus, type Handlers, type Limits, type ServerOptions, type Transport } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { contract, type TestContract } from './fixtures.js'

export interface Ctx {
  user: { id: string; name: string }
}

/** Builds a transport listening on a loopback port (0 = a free one). */
export type TransportFactory = (port?: number) => Transport

export const wsTransport: TransportFactory = (port = 0) => createWsTransport({ port, host: '127.0.0.1' })

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls until `fn` returns a truthy value, or fails after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T> // truthy
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export function defaultHandlers(): Handlers<TestContract, Ctx> {
  return {
    shared: {
      ping: () => ({ at: Date.now() }),
      echo: (input) => input,
      whoami: (_i, ctx, conn) => ({ conn: conn.id, user: ctx.user.id, role: conn.role, node: conn.nodeId }),
      fail: async ({ kind }) => {
        if (kind === 'rt') throw new RtError('CONFLICT', 'Already taken', { field: 'name' })
        if (kind === 'plain') throw new Error('secret database password in this message')
        if (kind === 'slow') {
          await sleep(400)
          return { ok: true }
        }
        return { ok: 'yes' } as never
      },
    },
    user: {
      notify: (_i, _ctx, conn) => {
        conn.emit('message', { room: 'lobby', text: 'hi', from: 'system' })
        return { ok: true }
      },
      joinRoom: () => ({ members: 1 }),
      burst: ({ count, size }, _ctx, conn) => {
        const text = 'x'.repeat(size)
        let sent = 0
        for (; sent < count && !(conn as { closed?: boolean }).closed; sent++) conn.emit('message', { room: 'r', text, from: 's' })
        return { sent }
      },
    },
    agent: {
      reply: () => ({ ok: true }),
    },
  }
}

export type TestServerOptions = Partial<Omit<ServerOptions<TestContract, Ctx>, 'limits'>> & { limits?: Partial<Limits>; port?: number }

/** A disposable server on a free loopback port. */
export async function startServer(transport: TransportFactory, overrides: TestServerOptions = {}) {
  const { port: wanted, ...rest } = overrides
  const errors: unknown[] = []
  const srv = createServer<TestContract, Ctx>({
    contract,
    transport: transport(wanted),
    authenticate: ({ auth }) => {
      const a = auth as { token?: string; name?: string } | undefined
      if (a?.token === 'bad') throw new RtError('UNAUTHORIZED', 'Bad token')
      const name = a?.name ?? 'anon'
      return { user: { id: name, name } }
    },
    handlers: defaultHandlers(),
    onError: (e) => errors.push(e),
    ...rest,
  } as ServerOptions<TestContract, Ctx>)
  return listening(srv, errors)
}

/** Starts `srv` on its loopback port: the disposable handle every test node is (close is idempotent). */
export async function listening<S extends { listen(): Promise<{ port: number }>; close(): Promise<void> }>(srv: S, errors: unknown[]) {
  const { port } = await srv.listen()
  return {
    srv,
    port,
    url: `ws://127.0.0.1:${port}`,
    errors,
    async [Symbol.asyncDispose]() {
      await srv.close()
    },
  }
}

type Role = 'user' | 'agent'

/** A disposable client; `auth` defaults to `{ name }`. */
export function connect<R extends Role>(url: string | (() => string), role: R, options: Partial<ClientOptions<R>> = {}) {
  const client = createClient(contract, {
    url,
    role,
    auth: { name: 'ann' },
    WebSocket,
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    callTimeoutMs: 5_000,
    ...options,
  })
  return client
}

export type { Bus }
