// The chat's @rt server: rooms for join notices, a history topic per room for the messages.
import type { HistoryStore } from '@rt/contract'
import { RtError, createServer, type Server, type Transport } from '@rt/server'
import { USER_NAME, contract, type Contract } from './contract.js'

export interface ChatCtx {
  user: { id: string }
}

export interface ChatServerOptions {
  transport: Transport
  /** Where the rooms' messages are kept. @default the server's own in-memory store */
  history?: HistoryStore
  onError?: (error: unknown) => void
}

/** An @rt server for the chat (in-memory bus: one node). */
export function createChatServer(options: ChatServerOptions): Server<Contract, ChatCtx> {
  const srv: Server<Contract, ChatCtx> = createServer<Contract, ChatCtx>({
    contract,
    transport: options.transport,
    ...(options.history ? { history: options.history } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    authenticate: ({ auth }) => {
      const name = String((auth as { name?: unknown } | undefined)?.name ?? '')
      if (!USER_NAME.test(name)) throw new RtError('UNAUTHORIZED', 'Pick a name: 1-20 letters, digits, - or _')
      return { user: { id: name } }
    },
    handlers: {
      user: {
        joinRoom: async ({ room }, ctx, conn) => {
          const r = srv.room(`room:${room}`)
          for (const other of srv.connections.values()) if (r.has(other) && other !== conn) other.emit('joined', { room, user: ctx.user.id })
          r.add(conn)
          return { members: await r.count() }
        },
        leaveRoom: ({ room }, _ctx, conn) => {
          srv.room(`room:${room}`).remove(conn)
          return { ok: true }
        },
        send: async ({ room, text }, ctx) => {
          const { offset } = await srv.forRole('user').publish('messages', { from: ctx.user.id, text, at: Date.now() }, { room })
          return { offset }
        },
      },
    },
  })
  return srv
}
