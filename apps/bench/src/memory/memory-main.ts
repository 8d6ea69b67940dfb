// `pnpm bench:memory [--n 10000] [--contenders rt-uws,raw-uws,...] [--max-semi-space MiB] [--smoke]`:
// idle memory per connection, each connection in room `bench` and in its own user's room (the
// seed's DM pattern), for every contender in one run: just after the connections arrived, with
// the part of the RSS that is V8's young generation (grown while they arrived) shown apart, and
// settled, once the idle process has given that back; and for @rt, where the bytes go: a heap
// snapshot before and after the connections, diffed by kind of object (self sizes), per
// connection.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CONTENDERS, type Contender } from '../harness/contenders.js'
import { describeMachine } from '../harness/machine.js'
import { closeAll, connect, memory, memoryDelta, roomSize, type MemoryReading, type Rig } from '../harness/measure.js'
import { benchCommand, benchDir, Child, killAll } from '../harness/proc.js'
import { sleep } from '../wire/clock.js'
import { startServer } from '../harness/run-contender.js'
import { heapDiff, heapOwners, readSnapshot, type HeapRow } from './heap-diff.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, n: { type: 'string' }, contenders: { type: 'string' }, 'max-semi-space': { type: 'string' } } })
// `--max-semi-space <MiB>`: every server started with V8's --max-semi-space-size, which caps the young generation.
const serverExecArgv = values['max-semi-space'] ? [`--max-semi-space-size=${Number(values['max-semi-space'])}`] : undefined
const smoke = values.smoke
const n = Number(values.n ?? (smoke ? 200 : 10_000))
const picked = values.contenders?.split(',') ?? CONTENDERS.map((c) => c.id)
const { log, done } = benchCommand(15)
const kib = (b: number) => (b / 1024).toFixed(2)

interface Row {
  id: string
  label: string
  n: number
  ready: number
  rssPerConnKiB: number
  heapPerConnKiB: number
  /** Of the RSS, V8's young generation grown during the connections (not per-connection state). */
  youngPerConnKiB: number
  /** Once the idle process has settled (see `settled`): RSS and heap per connection, and how long each reading waited. */
  settledRssPerConnKiB: number
  settledHeapPerConnKiB: number
  /** The young generation's part of the settled RSS (what V8 has not given back yet, or grew again). */
  settledYoungPerConnKiB: number
  settleMs: [before: number, after: number]
  breakdown?: (HeapRow & { bytesPerConn: number; perConn: number })[]
  owners?: (HeapRow & { bytesPerConn: number; perConn: number })[]
}

const snapDir = join(tmpdir(), `rt-bench-heap-${process.pid}`)
mkdirSync(snapDir, { recursive: true })
const rows: Row[] = []
const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
const rig: Rig = { clients, localAddresses: [], concurrency: 128 }

/**
 * Memory once the idle process has settled: read after GC every 2 s until the RSS has not fallen
 * for three readings in a row (at most `SETTLE_MAX_MS`). An idle V8 gives back the young
 * generation a burst of allocation grew (its memory reducer, a few seconds after the last full
 * GC), and the RSS with it: this is what a server holding idle connections keeps.
 */
const SETTLE_MAX_MS = smoke ? 4_000 : 60_000
async function settled(srv: Child): Promise<{ m: MemoryReading; ms: number }> {
  const t0 = Date.now()
  let m = await memory(srv)
  let low = m.rss
  for (let flat = 0; flat < 3 && Date.now() - t0 < SETTLE_MAX_MS; ) {
    await sleep(2_000)
    m = await memory(srv)
    if (m.rss < low * 0.995) flat = 0
    else flat++
    low = Math.min(low, m.rss)
  }
  return { m, ms: Date.now() - t0 }
}

/** n idle connections on a fresh server: memory after GC before and after (just after, and settled), or heap snapshots. */
async function measure(c: Contender, snapshots: boolean) {
  const srv = await startServer(c, { log, ...(serverExecArgv && { serverExecArgv }) })
  try {
    const bases = [`ws://127.0.0.1:${srv.info.port}`]
    // Warm up, so what is measured is connections, not first-use code and caches.
    await connect(rig, srv, bases, c.protocol, 200)
    await closeAll(rig, [srv])
    const snap = (i: number) => srv.request<string>('heapSnapshot', { file: join(snapDir, `${c.id}-${i}.heapsnapshot`) }, 300_000)
    const files: string[] = []
    // Both readings settled, so neither holds more of a grown young generation than the other.
    const before = snapshots ? { m: await memory(srv), ms: 0 } : await settled(srv)
    if (snapshots) files.push(await snap(0))
    const result = await connect(rig, srv, bases, c.protocol, n)
    const after = await memory(srv)
    const later = snapshots ? { m: after, ms: 0 } : await settled(srv)
    if (snapshots) files.push(await snap(1))
    const inRoom = await roomSize([srv])
    await closeAll(rig, [srv])
    return {
      ready: result.ready,
      inRoom,
      delta: memoryDelta(result.ready, before.m, after),
      settled: memoryDelta(result.ready, before.m, later.m),
      settleMs: [before.ms, later.ms] as [number, number],
      files,
    }
  } finally {
    await srv.close()
  }
}

try {
  for (const c of CONTENDERS.filter((x) => picked.includes(x.id))) {
    const m = await measure(c, false)
    const row: Row = {
      id: c.id,
      label: c.label,
      n,
      ready: m.ready,
      rssPerConnKiB: m.delta.rssPerConn / 1024,
      heapPerConnKiB: m.delta.heapPerConn / 1024,
      youngPerConnKiB: m.delta.youngPerConn / 1024,
      settledRssPerConnKiB: m.settled.rssPerConn / 1024,
      settledHeapPerConnKiB: m.settled.heapPerConn / 1024,
      settledYoungPerConnKiB: m.settled.youngPerConn / 1024,
      settleMs: m.settleMs,
    }
    log(`[${c.id}] ${m.ready}/${n} connected (in room: ${m.inRoom}); ${kib(m.delta.rssPerConn)} KiB RSS (${kib(m.delta.youngPerConn)} of it V8's young generation), ${kib(m.delta.heapPerConn)} KiB heap per connection; settled after ${(m.settleMs[1] / 1000).toFixed(0)} s: ${kib(m.settled.rssPerConn)} KiB RSS (${kib(m.settled.youngPerConn)} young), ${kib(m.settled.heapPerConn)} KiB heap`)
    // Snapshots grow the process by far more than the connections do: a second, fresh server.
    if (c.id.startsWith('rt-')) {
      const snaps = await measure(c, true)
      const [before, after] = snaps.files.map(readSnapshot) as [ReturnType<typeof readSnapshot>, ReturnType<typeof readSnapshot>]
      row.breakdown = heapDiff(before, after)
        .filter((r) => Math.abs(r.bytes) >= snaps.ready * 4) // 4 bytes a connection or more
        .map((r) => ({ ...r, bytesPerConn: r.bytes / snaps.ready, perConn: r.count / snaps.ready }))
      row.owners = heapOwners(before, after)
        .filter((r) => r.bytes >= snaps.ready * 4)
        .map((r) => ({ ...r, bytesPerConn: r.bytes / snaps.ready, perConn: r.count / snaps.ready }))
      log('   by kind of object (self sizes, per connection):')
      for (const b of row.breakdown.slice(0, 24)) log(`   ${b.bytesPerConn.toFixed(0).padStart(6)} B  ${b.perConn.toFixed(2).padStart(5)} ×  ${b.kind}`)
      log('   by owner (new objects, counted against their nearest named retainer):')
      for (const b of row.owners.slice(0, 24)) log(`   ${b.bytesPerConn.toFixed(0).padStart(6)} B  ${b.perConn.toFixed(2).padStart(5)} ×  ${b.kind}`)
    }
    rows.push(row)
  }
} finally {
  done()
  await killAll()
  rmSync(snapDir, { recursive: true, force: true })
}

const by = (id: string) => rows.find((r) => r.id === id)
log('')
// The young generation grows with the rate of allocation while connections arrive, to at most
// 2 × 16 MiB, and stays committed until the process has been idle a few seconds: shown apart
// just after the burst, and gone from the settled figures.
const held = (r: Row) => r.rssPerConnKiB - r.youngPerConnKiB
const ratio = (a: number, b: number | undefined) => (b === undefined ? '–' : `${(a / b).toFixed(2)}×`)
log(`| contender | connections | RSS per connection, just after | of it, V8 young generation | RSS per connection, settled | heap per connection | settled RSS vs raw ws | settled RSS vs Socket.IO |`)
log(`|---|---:|---:|---:|---:|---:|---:|---:|`)
for (const r of rows) {
  const vs = (o: Row | undefined) => ratio(r.settledRssPerConnKiB, o?.settledRssPerConnKiB)
  log(`| ${r.label} | ${r.ready} | ${r.rssPerConnKiB.toFixed(2)} KiB | ${r.youngPerConnKiB.toFixed(2)} KiB | ${r.settledRssPerConnKiB.toFixed(2)} KiB | ${r.heapPerConnKiB.toFixed(2)} KiB | ${vs(by('raw-ws'))} | ${vs(by('sio'))} |`)
}
log('')
log(`Just after, without the young generation: ${rows.map((r) => `${r.label} ${held(r).toFixed(2)} KiB`).join(', ')}.`)
const dir = join(benchDir, 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `memory-${smoke ? 'smoke' : 'full'}${serverExecArgv ? `-semi${Number(values['max-semi-space'])}` : ''}.json`)
writeFileSync(file, `${JSON.stringify({ command: `pnpm bench:memory ${process.argv.slice(2).join(' ')}`.trim(), startedAt: new Date().toISOString(), machine: describeMachine(), rows }, null, 2)}\n`)
log(`wrote ${file}`)
const incomplete = rows.filter((r) => r.ready !== r.n)
if (incomplete.length > 0) {
  log(`INCOMPLETE: ${incomplete.map((r) => `${r.id} ${r.ready}/${r.n}`).join(', ')}`)
  process.exitCode = 1
}
process.exit()
