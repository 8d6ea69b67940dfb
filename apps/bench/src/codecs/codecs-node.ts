// The measured server: one @rt node serving JSON and MessagePack; its connections all join
// room:42 and may call `echo`. Driven over IPC by codecs-main.ts: `run` broadcasts, `cpu` reports
// the CPU used since the last `cpu` (or `run`).
import { msgpackEncoder } from '@rt/codec-msgpack'
import { defineContract, jsonEncoder } from '@rt/contract'
import { createServer, type Transport } from '@rt/server'
import * as z from 'zod'
import { chatMessage } from '../compression/chat.js'
import { sendInTurns } from '../wire/child-node.js'

const contract = defineContract({
  shared: {
    serverToClient: { message: { payload: z.object({ room: z.string(), from: z.string(), text: z.string(), at: z.number() }) } },
    clientToServer: { echo: { input: z.object({ text: z.string(), n: z.number() }), output: z.object({ text: z.string(), n: z.number() }) } },
  },
  roles: { user: {} },
})

const config = JSON.parse(process.argv[2]!) as { transport: 'ws' | 'uws' }

async function transport(): Promise<Transport> {
  if (config.transport === 'ws') {
    const { createWsTransport } = await import('@rt/transport-ws')
    return createWsTransport({ port: 0, host: '127.0.0.1' })
  }
  const { createUwsTransport } = await import('@rt/transport-uws')
  return createUwsTransport({ port: 0, host: '127.0.0.1' })
}

let users = 0
const srv = createServer({
  contract,
  transport: await transport(),
  encoders: [jsonEncoder, msgpackEncoder],
  authenticate: () => ({ user: { id: `u${++users}` } }),
  handlers: { shared: { echo: (input) => input } },
  onConnection: (conn) => room.add(conn),
  limits: { ratePerSecond: 1e9, rateBurst: 1e9, maxInFlightCalls: 1e6, byteRatePerSecond: 1e12, byteBurst: 1e12 },
  validateOutput: false,
})
const room = srv.room('room:42')
const { port } = await srv.listen()
let cpu = process.cpuUsage()

process.on('message', (m: { cmd: 'run'; messages: number; perTurn: number; from: number } | { cmd: 'cpu' } | { cmd: 'exit' }) => {
  if (m.cmd === 'exit') return void srv.close().then(() => process.exit(0))
  if (m.cmd === 'cpu') {
    const d = process.cpuUsage(cpu)
    cpu = process.cpuUsage()
    return void process.send!({ cpuUs: d.user + d.system, members: room.size })
  }
  cpu = process.cpuUsage()
  sendInTurns(m.from, m.messages, m.perTurn, (seq) => room.broadcast('message', chatMessage(seq)))
})
process.send!({ port })
