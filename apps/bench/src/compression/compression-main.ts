// `pnpm bench:compression [--sockets 100] [--messages 1000] [--smoke]`: a chat room's messages
// (chat.ts, ~300-byte frames) broadcast to every socket, on both transports, compression off and
// on. Per delivery: bytes the clients read from their sockets (the kernel's count, headers
// included) and the server's CPU (process.cpuUsage over the run, until the last delivery).
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { constants, createDeflateRaw, deflateRawSync } from 'node:zlib'
import { chatMessage } from './chat.js'
import { ask, startNode, until } from '../wire/child-node.js'
import type { WireSocket } from '../wire/wire-socket.js'
import { openWire } from './wire-sockets.js'
import { median } from '../harness/median.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, sockets: { type: 'string' }, messages: { type: 'string' } } })
const sockets = Number(values.sockets ?? (values.smoke ? 20 : 100))
const memorySockets = values.smoke ? 100 : 1_000
const messages = Number(values.messages ?? (values.smoke ? 100 : 1_000))
const PER_TURN = 10
const ROUNDS = values.smoke ? 1 : 3
const log = (s: string) => process.stdout.write(`${s}\n`)

interface Mode {
  transport: 'ws' | 'uws'
  compression: false | number
  label: string
}
const MODES: Mode[] = (['ws', 'uws'] as const).flatMap((transport) => [
  { transport, compression: false as const, label: 'off' },
  { transport, compression: 1024, label: 'on, threshold 1024 (default)' },
  { transport, compression: 0, label: 'on, threshold 0' },
])

const node = (mode: Mode) => startNode(new URL('./compression-node.ts', import.meta.url), mode, ['--expose-gc'])

async function measure(mode: Mode) {
  const { child, port } = await node(mode)
  const ws: WireSocket[] = []
  try {
    // Memory first: each socket has sent one message, compressed where negotiated (as browsers do).
    const rss0 = (await ask<{ rss: number }>(child, { cmd: 'rss' })).rss
    for (let i = 0; i < memorySockets; i++) ws.push(await openWire(port, true))
    await until(() => ws.every((w) => w.frames === 1), 20_000, 'welcomes')
    const rssPerSocketKiB = ((await ask<{ rss: number }>(child, { cmd: 'rss' })).rss - rss0) / memorySockets / 1024
    for (const w of ws.splice(sockets)) w.close()
    const runs: { bytes: number; cpuUs: number; compressed: number }[] = []
    // Round 0 warms the code up and is not counted.
    for (let r = 0; r <= ROUNDS; r++) {
      const bytes0 = ws.reduce((n, w) => n + w.socket.bytesRead, 0)
      const frames0 = ws.map((w) => w.frames)
      const compressed0 = ws.reduce((n, w) => n + w.compressed, 0)
      await ask(child, { cmd: 'cpu' }) // resets nothing; syncs
      child.send({ cmd: 'run', messages, perTurn: PER_TURN, from: r * messages })
      await until(() => ws.every((w, i) => w.frames - frames0[i]! === messages), 60_000, 'deliveries')
      const { cpuUs } = await ask<{ cpuUs: number }>(child, { cmd: 'cpu' })
      const bytes = ws.reduce((n, w) => n + w.socket.bytesRead, 0) - bytes0
      if (r > 0) runs.push({ bytes, cpuUs, compressed: ws.reduce((n, w) => n + w.compressed, 0) - compressed0 })
    }
    const deliveries = sockets * messages
    return {
      extension: ws[0]!.header('sec-websocket-extensions') ?? null,
      rssPerSocketKiB,
      bytesPerDelivery: median(runs.map((x) => x.bytes / deliveries)),
      cpuUsPerDelivery: median(runs.map((x) => x.cpuUs / deliveries)),
      compressedShare: runs[0]!.compressed / deliveries,
    }
  } finally {
    for (const w of ws) w.close()
    if (child.exitCode === null) await ask(child, { cmd: 'exit' })
  }
}

/** What context takeover (a deflate window kept per socket, not offered here) would have saved on the same messages. */
async function takeoverRatio(): Promise<{ plain: number; perMessage: number; takeover: number; deflateUs: number }> {
  const frames = Array.from({ length: 500 }, (_, i) => Buffer.from(JSON.stringify({ t: 'event', n: 'message', d: chatMessage(i) })))
  const d = createDeflateRaw()
  let plain = 0
  let perMessage = 0
  let takeover = 0
  const t0 = process.hrtime.bigint()
  for (const f of frames) perMessage += deflateRawSync(f, { windowBits: 9, finishFlush: constants.Z_SYNC_FLUSH }).length - 4
  const deflateUs = Number(process.hrtime.bigint() - t0) / 1e3 / frames.length
  for (const f of frames) {
    plain += f.length
    takeover += await new Promise<number>((resolve) => {
      const parts: Buffer[] = []
      const on = (c: Buffer) => parts.push(c)
      d.on('data', on)
      d.write(f)
      d.flush(constants.Z_SYNC_FLUSH, () => {
        d.off('data', on)
        resolve(Buffer.concat(parts).length - 4)
      })
    })
  }
  d.close()
  return { plain: plain / frames.length, perMessage: perMessage / frames.length, takeover: takeover / frames.length, deflateUs }
}

const rows: (Mode & Awaited<ReturnType<typeof measure>>)[] = []
for (const mode of MODES) {
  const m = await measure(mode)
  rows.push({ ...mode, ...m })
  log(`[${mode.transport} ${mode.label}] ${m.bytesPerDelivery.toFixed(1)} B/delivery, ${m.cpuUsPerDelivery.toFixed(3)} µs CPU/delivery, ${m.rssPerSocketKiB.toFixed(1)} KiB RSS/socket, ${(m.compressedShare * 100).toFixed(0)}% compressed, extension: ${m.extension}`)
}
const z = await takeoverRatio()
const lines = [
  `# Compression: ${sockets} sockets, ${messages} chat messages broadcast (${PER_TURN} a turn), median of ${ROUNDS}`,
  '',
  `Frame: ${z.plain.toFixed(0)} bytes of JSON on average; deflated alone ${z.perMessage.toFixed(0)} (${(z.perMessage / z.plain).toFixed(2)}), with context takeover ${z.takeover.toFixed(0)} (${(z.takeover / z.plain).toFixed(2)}); one deflateRawSync ${z.deflateUs.toFixed(1)} µs.`,
  '',
  '| transport | compression | bytes / delivery | vs off | server CPU µs / delivery | vs off | server RSS KiB / socket |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const off = rows.find((x) => x.transport === r.transport && x.compression === false)!
    return `| ${r.transport} | ${r.label} | ${r.bytesPerDelivery.toFixed(1)} | ${(r.bytesPerDelivery / off.bytesPerDelivery).toFixed(2)} | ${r.cpuUsPerDelivery.toFixed(3)} | ${(r.cpuUsPerDelivery / off.cpuUsPerDelivery).toFixed(2)} | ${r.rssPerSocketKiB.toFixed(1)} |`
  }),
]
log(`\n${lines.join('\n')}`)
if (!values.smoke) {
  const out = new URL('../../results/compression', import.meta.url)
  writeFileSync(`${out.pathname}.json`, JSON.stringify({ sockets, messages, perTurn: PER_TURN, rounds: ROUNDS, node: process.version, frame: z, rows }, null, 2))
  writeFileSync(`${out.pathname}.md`, `${lines.join('\n')}\n`)
}
