import * as z from 'zod'
import WebSocket from 'ws'
import { defineContract } from '@rt/contract'
import { createServer } from '@rt/server'
import { createWsTransport } from '@rt/transport-ws'
import { createClient } from '@rt/client'

const contract = defineContract({
  shared: { serverToClient: { message: { payload: z.object({ text: z.string(), from: z.string() }) } } },
  roles: { user: { clientToServer: { notify: { input: z.object({}), output: z.object({ ok: z.boolean() }) } } } },
})

const srv = createServer({
  contract,
  transport: createWsTransport({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080) }), // PORT=0: any free port
  authenticate: ({ auth }) => ({ user: { id: String((auth as { name: string }).name) } }),
  handlers: {
    user: { notify: (_input, ctx, conn) => (conn.emit('message', { text: 'hi', from: ctx.user.id }), { ok: true }) },
  },
})
const { port } = await srv.listen()

const client = createClient(contract, { url: `ws://127.0.0.1:${port}`, role: 'user', auth: { name: 'ann' }, WebSocket })
client.on('message', (m) => console.log(m.from, m.text)) // m is typed: { text: string; from: string }
console.log(await client.call.notify({}))                // { ok: true }

await client.close()
await srv.close()
