// The demo: a chat server on the embedded default (one node, in-memory bus) and an agent bot
// that answers messages mentioning it. Connect with any @rt client as role "user".
import WebSocket from 'ws'
import { createClient } from '@rt/client'
import { RtError, createServer, type Conn } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { contract } from './contract.js'

type C = typeof contract
const port = Number(process.env.PORT ?? 8080)

const srv = createServer({
  contract,
  transport: createWsTransport({ port }),
  authenticate: ({ auth }) => {
    const name = String((auth as { name?: unknown } | undefined)?.name ?? '').trim()
    if (!/^[\w-]{1,32}$/.test(name)) throw new RtError('UNAUTHORIZED', 'Pick a name: 1-32 letters, digits, - or _')
    return { user: { id: name } }
  },
  handlers: {
    shared: { ping: () => ({ at: Date.now() }) },
    user: {
      say: ({ text }, ctx) => {
        let delivered = 0
        for (const conn of srv.connections.values()) {
          conn.emit('message', { room: 'lobby', text, from: ctx.user.id })
          if (conn.role === 'agent' && /@bot\b/.test(text)) (conn as Conn<C, 'agent'>).emit('task', { from: ctx.user.id, text })
          delivered++
        }
        return { delivered }
      },
    },
    agent: {
      reply: ({ text }, ctx) => {
        for (const conn of srv.connections.values()) conn.emit('message', { room: 'lobby', text, from: ctx.user.id })
        return { ok: true }
      },
    },
  },
})

const { port: listening } = await srv.listen()
process.stdout.write(`@rt demo listening on ws://localhost:${listening} (role "user", auth { name })\n`)

const bot = createClient(contract, { url: `ws://127.0.0.1:${listening}`, role: 'agent', auth: { name: 'bot' }, WebSocket: WebSocket as never })
bot.on('task', ({ from, text }) => void bot.call.reply({ text: `@${from} you said "${text.replace(/@bot\b/g, '').trim()}"` }).catch(() => {}))

const stop = async () => {
  await bot.close()
  await srv.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
