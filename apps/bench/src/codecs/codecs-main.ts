// `pnpm bench:codecs [--sockets 100] [--messages 1000] [--calls 20000] [--smoke]`: JSON against
// MessagePack on both transports, one server (codecs-node.ts, in its own process) serving both.
// Fan-out: chat messages (~300-byte JSON frames) broadcast to a room of sockets all on one codec,
// or half and half; per delivery, the bytes the clients read from their sockets (the kernel's
// count, WebSocket headers included) and the server's CPU. Calls: `echo` calls pipelined by 20
// sockets; per call, bytes sent and read by the clients and the server's CPU. Then the libraries
// compared on single frames (library-compare.ts).
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { msgpackEncoder } from '@rt/codec-msgpack'
import { jsonEncoder, subprotocolOf, type Encoder } from '@rt/contract'
import type { ChildProcess } from 'node:child_process'
import { ask, startNode, until } from '../wire/child-node.js'
import type { WireSocket } from '../wire/wire-socket.js'
import { clientFrame, openCodecWire } from './codec-wire-socket.js'
import { compareLibraries, libraryTable } from './library-compare.js'
import { median } from '../harness/median.js'

const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, sockets: { type: 'string' }, messages: { type: 'string' }, calls: { type: 'string' } },
})
const sockets = Number(values.sockets ?? (values.smoke ? 20 : 100))
const messages = Number(values.messages ?? (values.smoke ? 100 : 1_000))
const calls = Number(values.calls ?? (values.smoke ? 2_000 : 20_000))
const CALLERS = 20
const WINDOW = 50
const PER_TURN = 10
const ROUNDS = values.smoke ? 1 : 3
const log = (s: string) => process.stdout.write(`${s}\n`)

type Mix = 'json' | 'msgpack' | 'half'
const TRANSPORTS = ['ws', 'uws'] as const
const MIXES: Mix[] = ['json', 'msgpack', 'half']

const node = (transport: string) => startNode(new URL('./codecs-node.ts', import.meta.url), { transport })

const hello = { t: 'hello', v: 1, role: 'user', auth: {} } as const

async function openAs(port: number, encoder: Encoder): Promise<WireSocket> {
  const w = await openCodecWire(port, encoder === jsonEncoder ? undefined : subprotocolOf(encoder), encoder.encode(hello))
  const agreed = w.header('sec-websocket-protocol')
  if (encoder !== jsonEncoder && agreed !== subprotocolOf(encoder)) throw new Error(`server answered ${agreed}`)
  return w
}

async function fanout(child: ChildProcess, port: number, mix: Mix) {
  const ws: WireSocket[] = []
  try {
    for (let i = 0; i < sockets; i++) ws.push(await openAs(port, mix === 'msgpack' || (mix === 'half' && i % 2 === 1) ? msgpackEncoder : jsonEncoder))
    await until(() => ws.every((w) => w.frames === 1), 20_000, 'welcomes')
    const runs: { bytes: number; cpuUs: number }[] = []
    for (let r = 0; r <= ROUNDS; r++) {
      const bytes0 = ws.reduce((n, w) => n + w.socket.bytesRead, 0)
      const frames0 = ws.map((w) => w.frames)
      await ask(child, { cmd: 'cpu' })
      child.send({ cmd: 'run', messages, perTurn: PER_TURN, from: r * messages })
      await until(() => ws.every((w, i) => w.frames - frames0[i]! === messages), 60_000, 'deliveries')
      const { cpuUs } = await ask<{ cpuUs: number }>(child, { cmd: 'cpu' })
      // Round 0 warms the code up and is not counted.
      if (r > 0) runs.push({ bytes: ws.reduce((n, w) => n + w.socket.bytesRead, 0) - bytes0, cpuUs })
    }
    const binaryShare = ws.reduce((n, w) => n + w.binary, 0) / ws.reduce((n, w) => n + w.frames, 0)
    const deliveries = sockets * messages
    return { bytes: median(runs.map((x) => x.bytes / deliveries)), cpuUs: median(runs.map((x) => x.cpuUs / deliveries)), binaryShare }
  } finally {
    for (const w of ws) w.close()
  }
}

async function perCall(child: ChildProcess, port: number, encoder: Encoder) {
  const ws: WireSocket[] = []
  try {
    for (let i = 0; i < CALLERS; i++) ws.push(await openAs(port, encoder))
    await until(() => ws.every((w) => w.frames === 1), 20_000, 'welcomes')
    const each = Math.ceil(calls / CALLERS)
    const text = 'Lunch at the bakery today? The new place by the station.'
    const batch = Buffer.concat(Array.from({ length: WINDOW }, (_, i) => clientFrame(encoder.encode({ t: 'call', id: i + 1, p: 'echo', d: { text, n: i } }))))
    const runs: { bytes: number; cpuUs: number }[] = []
    for (let r = 0; r <= ROUNDS; r++) {
      const read0 = ws.reduce((n, w) => n + w.socket.bytesRead, 0)
      const written0 = ws.reduce((n, w) => n + w.socket.bytesWritten, 0)
      await ask(child, { cmd: 'cpu' })
      // Each socket keeps a window of calls in flight: a batch at a time, the next once it is answered.
      await Promise.all(
        ws.map(async (w) => {
          for (let done = 0; done < each; done += WINDOW) {
            const target = w.frames + WINDOW
            w.send(batch)
            await until(() => w.frames >= target, 30_000, 'answers')
          }
        }),
      )
      const { cpuUs } = await ask<{ cpuUs: number }>(child, { cmd: 'cpu' })
      const total = Math.ceil(each / WINDOW) * WINDOW * CALLERS
      const bytes = ws.reduce((n, w) => n + w.socket.bytesRead, 0) - read0 + ws.reduce((n, w) => n + w.socket.bytesWritten, 0) - written0
      if (r > 0) runs.push({ bytes: bytes / total, cpuUs: cpuUs / total })
    }
    return { bytes: median(runs.map((x) => x.bytes)), cpuUs: median(runs.map((x) => x.cpuUs)) }
  } finally {
    for (const w of ws) w.close()
  }
}

const fanRows: { transport: string; mix: Mix; bytes: number; cpuUs: number; binaryShare: number }[] = []
const callRows: { transport: string; codec: string; bytes: number; cpuUs: number }[] = []
for (const transport of TRANSPORTS) {
  const { child, port } = await node(transport)
  try {
    for (const mix of MIXES) {
      const m = await fanout(child, port, mix)
      fanRows.push({ transport, mix, ...m })
      log(`[${transport} fan-out ${mix}] ${m.bytes.toFixed(1)} B/delivery, ${m.cpuUs.toFixed(3)} µs CPU/delivery, ${(m.binaryShare * 100).toFixed(0)}% binary frames`)
    }
    for (const encoder of [jsonEncoder, msgpackEncoder]) {
      const m = await perCall(child, port, encoder)
      callRows.push({ transport, codec: encoder.name, ...m })
      log(`[${transport} calls ${encoder.name}] ${m.bytes.toFixed(1)} B/call (both ways), ${m.cpuUs.toFixed(2)} µs CPU/call`)
    }
  } finally {
    if (child.exitCode === null) await ask(child, { cmd: 'exit' })
  }
}
const libraries = compareLibraries()
const mixLabel = { json: 'all JSON', msgpack: 'all MessagePack', half: 'half and half' }
const lines = [
  `# Codecs: ${sockets} sockets, ${messages} chat messages broadcast (${PER_TURN} a turn); ${calls} echo calls (${CALLERS} sockets, ${WINDOW} in flight each); median of ${ROUNDS}`,
  '',
  '## Fan-out, per delivery',
  '',
  '| transport | sockets | bytes / delivery | vs JSON | server CPU µs / delivery | vs JSON |',
  '|---|---|---|---|---|---|',
  ...fanRows.map((r) => {
    const json = fanRows.find((x) => x.transport === r.transport && x.mix === 'json')!
    return `| ${r.transport} | ${mixLabel[r.mix]} | ${r.bytes.toFixed(1)} | ${(r.bytes / json.bytes).toFixed(2)} | ${r.cpuUs.toFixed(3)} | ${(r.cpuUs / json.cpuUs).toFixed(2)} |`
  }),
  '',
  '## Calls, per call (call and result, both ways)',
  '',
  '| transport | codec | bytes / call | vs JSON | server CPU µs / call | vs JSON |',
  '|---|---|---|---|---|---|',
  ...callRows.map((r) => {
    const json = callRows.find((x) => x.transport === r.transport && x.codec === 'json')!
    return `| ${r.transport} | ${r.codec} | ${r.bytes.toFixed(1)} | ${(r.bytes / json.bytes).toFixed(2)} | ${r.cpuUs.toFixed(2)} | ${(r.cpuUs / json.cpuUs).toFixed(2)} |`
  }),
  '',
  '## Libraries, one frame (this process)',
  '',
  ...libraryTable(libraries),
]
log(`\n${lines.join('\n')}`)
if (!values.smoke) {
  const out = new URL('../../results/codecs', import.meta.url)
  writeFileSync(`${out.pathname}.json`, JSON.stringify({ sockets, messages, calls, rounds: ROUNDS, node: process.version, fanout: fanRows, perCall: callRows, libraries }, null, 2))
  writeFileSync(`${out.pathname}.md`, `${lines.join('\n')}\n`)
}
