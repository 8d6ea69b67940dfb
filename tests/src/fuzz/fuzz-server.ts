// A server node for the fuzz and hostile suites, in a process of its own (forked with IPC), so
// that a crash, an uncaught exception or an unhandled rejection is seen as what it is, and its
// memory is measured without the attacking clients in the same heap.
// argv[2]: 'ws' | 'uws'; argv[3]: limits as JSON. Commands arrive over IPC (see server-process.ts).
import { RtError } from '@rt/contract'
import { createServer, type Conn, type Limits } from '@rt/server'
import { createUwsTransport } from '@rt/transport-uws'
import { createWsTransport } from '@rt/transport-ws'
import { fuzzContract, type FuzzContract } from './fuzz-contract.js'

interface Ctx {
  user: { id: string }
  expiresAt?: number
}

const kind = process.argv[2] === 'uws' ? 'uws' : 'ws'
const limits = JSON.parse(process.argv[3] ?? '{}') as Partial<Limits>
const send = (m: object) => process.send?.(m)
const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e))

// Recorded, not fatal: the suite reports every one of them, then fails.
const uncaught: string[] = []
const unhandled: string[] = []
const reported: { where: string; error: string; code?: string }[] = []
const closes = new Map<number, number>()
process.on('uncaughtException', (e) => void uncaught.push(describe(e)))
process.on('unhandledRejection', (e) => void unhandled.push(describe(e)))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let ticks: ReturnType<typeof setInterval> | undefined
let seq = 0

const srv = createServer<FuzzContract, Ctx>({
  contract: fuzzContract,
  transport: kind === 'uws' ? createUwsTransport({ port: 0, host: '127.0.0.1' }) : createWsTransport({ port: 0, host: '127.0.0.1' }),
  limits,
  authenticate: async ({ auth }) => {
    const a = (auth ?? {}) as { name?: unknown; token?: unknown; delayMs?: unknown; ttlMs?: unknown }
    if (typeof a.delayMs === 'number' && a.delayMs > 0) await sleep(Math.min(a.delayMs, 5_000))
    if (a.token === 'bad') throw new RtError('UNAUTHORIZED', 'Bad token')
    const ctx: Ctx = { user: { id: typeof a.name === 'string' && a.name !== '' ? a.name : 'anon' } }
    // Credentials that expire: the server asks for a refresh, and closes with 4001 at the expiry.
    if (typeof a.ttlMs === 'number' && Number.isFinite(a.ttlMs)) ctx.expiresAt = Date.now() + a.ttlMs
    return ctx
  },
  handlers: {
    shared: {
      echo: (input) => input,
      json: (input) => ({ type: input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input }),
    },
    user: {
      // An application that lets the client name a room.
      join: ({ room }, _ctx, conn) => {
        srv.room(room).add(conn)
        return { ok: true }
      },
      slow: async ({ ms }) => {
        await sleep(ms)
        return { ok: true }
      },
      burst: ({ count, size }, _ctx, conn) => {
        const text = 'x'.repeat(size)
        let sent = 0
        for (; sent < count && !(conn as unknown as { closed: boolean }).closed; sent++) conn.emit('blob', { text })
        return { sent }
      },
    },
    agent: { reply: () => ({ ok: true }) },
  },
  onConnection: (conn) => {
    srv.room('all').add(conn)
  },
  onDisconnect: (_conn: Conn<FuzzContract>, _ctx, { code }) => {
    closes.set(code, (closes.get(code) ?? 0) + 1)
  },
  onError: (error, context) => void reported.push({ where: context.where, error: describe(error), ...(error instanceof RtError && { code: error.code }) }),
})

function stats() {
  const m = process.memoryUsage()
  return {
    uncaught,
    unhandled,
    reported,
    closes: Object.fromEntries(closes),
    connections: srv.stats().connections,
    heapUsed: m.heapUsed,
    rss: m.rss,
    seq,
  }
}

process.on('message', async (msg: { id: number; cmd: string; arg?: unknown }) => {
  let value: unknown
  switch (msg.cmd) {
    case 'stats':
      value = stats()
      break
    case 'gc': {
      const gc = (globalThis as { gc?: () => void }).gc
      for (let i = 0; i < 3; i++) {
        gc?.()
        await sleep(20)
      }
      value = stats()
      break
    }
    case 'ticks': {
      // Room broadcasts and topic publishes the well-behaved client must all receive.
      if (ticks) clearInterval(ticks)
      ticks = undefined
      if (msg.arg) {
        ticks = setInterval(() => {
          seq++
          srv.room('all').broadcast('tick', { seq })
          srv.publish('news', { seq })
          srv.forRole('user').publish('ticker', { price: seq }, { symbol: 'GOOD' })
        }, Number(msg.arg))
      }
      value = seq
      break
    }
  }
  send({ id: msg.id, value })
})

const { port } = await srv.listen()
send({ ready: true, port, nodeId: srv.nodeId })
process.on('disconnect', () => void srv.close().then(() => process.exit(0)))
