// The measured server: one @rt node whose connections all join room:42. Driven over IPC by
// compression-main.ts: `run` broadcasts, `cpu` reports the CPU used since `run`.
import { createServer, type Transport } from '@rt/server'
import { chatContract, chatMessage } from './chat.js'
import { sendInTurns } from '../wire/child-node.js'

interface Config {
  transport: 'ws' | 'uws'
  /** `false`, or the threshold. */
  compression: false | number
}

const config = JSON.parse(process.argv[2]!) as Config
const compression = config.compression === false ? false : { threshold: config.compression }

async function transport(): Promise<Transport> {
  if (config.transport === 'ws') {
    const { createWsTransport } = await import('@rt/transport-ws')
    return createWsTransport({ port: 0, host: '127.0.0.1', compression })
  }
  const { createUwsTransport } = await import('@rt/transport-uws')
  return createUwsTransport({ port: 0, host: '127.0.0.1', compression })
}

let users = 0
const srv = createServer({
  contract: chatContract,
  transport: await transport(),
  authenticate: () => ({ user: { id: `u${++users}` } }),
  handlers: { shared: {} },
  onConnection: (conn) => room.add(conn),
  limits: { ratePerSecond: 1e9, rateBurst: 1e9 },
})
const room = srv.room('room:42')
const { port } = await srv.listen()
let cpu = process.cpuUsage()

process.on('message', (m: { cmd: 'run'; messages: number; perTurn: number; from: number } | { cmd: 'cpu' } | { cmd: 'rss' } | { cmd: 'exit' }) => {
  if (m.cmd === 'exit') return void srv.close().then(() => process.exit(0))
  if (m.cmd === 'cpu') {
    const d = process.cpuUsage(cpu)
    return void process.send!({ cpuUs: d.user + d.system, members: room.size })
  }
  if (m.cmd === 'rss') {
    global.gc?.()
    return void setTimeout(() => process.send!({ rss: process.memoryUsage().rss }), 200)
  }
  cpu = process.cpuUsage()
  sendInTurns(m.from, m.messages, m.perTurn, (seq) => room.broadcast('message', chatMessage(seq)))
})
process.send!({ port })
