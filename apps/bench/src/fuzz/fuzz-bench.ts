// `pnpm bench:fuzz`: the fuzz suite's generator and checks (tests/src/fuzz) for a long run,
// ≥ 1 M frames in all, with a well-behaved client throughout. Prints frames/s, crashes,
// answers missing and the server's RSS and heap before and after. Exits 1 if anything failed.
// Options: --frames=N (in all, split over the transports; default 1 000 000), --transports=ws,uws, --concurrency=N
// (attacking connections at once, default 48), --seed=N, --dump=PATH (writes failing scripts to PATH-<transport>.json).
import fc from 'fast-check'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { scriptOf, type Script } from '@rt/tests/fuzz/frames'
import { FUZZ_LIMITS, serverProblems } from '@rt/tests/fuzz/checks'
import { startGoodClient } from '@rt/tests/fuzz/good-client'
import { startFuzzServer, type TransportKind } from '@rt/tests/fuzz/server-process'
import { runSession, type SessionResult } from '@rt/tests/fuzz/session'

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const transports = arg('transports', 'ws,uws').split(',') as TransportKind[]
const framesWanted = Math.ceil(Number(arg('frames', '1000000')) / transports.length)
const concurrency = Number(arg('concurrency', '48'))
const seed = Number(arg('seed', String(Math.floor(Math.random() * 2 ** 31))))
const loader = ['--import', fileURLToPath(new URL('../loader/register.mjs', import.meta.url)), '--conditions=@rt/source']
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`

async function runTransport(kind: TransportKind) {
  await using srv = await startFuzzServer(kind, FUZZ_LIMITS, loader)
  await using good = await startGoodClient(srv.url)
  await srv.ticks(20)
  const arb = scriptOf(200, 1, 1)
  for (const s of fc.sample(arb, { seed: 1, numRuns: 50 })) await runSession(srv.url, s)
  const before = await srv.gc()
  const t = { frames: 0, bytes: 0, sessions: 0, missing: 0, extra: 0, internal: 0, badClose: 0 }
  const closes = new Map<number, number>()
  const signatures = new Map<string, { count: number; example: string }>()
  let peakRss = before.rss
  const started = performance.now()
  let batch = 0
  let queue: ReturnType<typeof arb.generate>['value'][] = []
  const nextScript = () => {
    if (queue.length === 0) queue = fc.sample(arb, { seed: seed + batch++, numRuns: 500 })
    return queue.pop()!
  }
  const failing: Script[] = []
  const tally = (r: SessionResult, script: Script) => {
    if (r.problems.length > 0 && failing.length < 20) failing.push(script)
    t.frames += r.framesSent
    t.bytes += r.bytesSent
    t.sessions++
    t.missing += r.missing
    t.extra += r.extra
    t.internal += r.internal
    t.badClose += r.badClose
    if (r.close !== undefined) closes.set(r.close, (closes.get(r.close) ?? 0) + 1)
    const [first, ...rest] = r.problems
    if (first) {
      const sig = first.replace(/\d+/g, 'N').slice(0, 120)
      const e = signatures.get(sig) ?? { count: 0, example: [first, rest.at(-1)].join('\n    ').slice(0, 600) }
      e.count++
      signatures.set(sig, e)
    }
  }
  let lastReport = started
  const worker = async () => {
    while (t.frames < framesWanted && !srv.exit) {
      const script = nextScript()
      tally(await runSession(srv.url, script), script)
      const now = performance.now()
      if (now - lastReport > 5_000) {
        lastReport = now
        const s = await srv.stats()
        peakRss = Math.max(peakRss, s.rss)
        process.stderr.write(`  ${kind}: ${t.frames} frames, ${t.sessions} connections, RSS ${MiB(s.rss)}\n`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  const lastSeq = await srv.ticks(0).catch(() => -1)
  const end = Date.now() + 5_000
  while (Date.now() < end && !(good.last.tick === lastSeq && good.last.news === lastSeq)) await new Promise((r) => setTimeout(r, 20))
  await good.stop()
  const deadline = Date.now() + 5_000
  while (!srv.exit && Date.now() < deadline && (await srv.stats()).connections > 1) await new Promise((r) => setTimeout(r, 20))
  const after = srv.exit ? before : await srv.gc()
  const server = serverProblems(before, after)
  for (const p of server) {
    const sig = p.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 120)
    const e = signatures.get(sig) ?? { count: 0, example: p.split('\n').slice(0, 4).join('\n    ') }
    e.count++
    signatures.set(sig, e)
  }
  const dump = arg('dump', '')
  if (dump && failing.length > 0) writeFileSync(`${dump}-${kind}.json`, JSON.stringify(failing, (_k, v) => (v instanceof Uint8Array ? { bytes: [...v] } : v)))
  const crashes = after.uncaught.length - before.uncaught.length + (after.unhandled.length - before.unhandled.length) + (srv.exit ? 1 : 0)
  const goodProblems = good.problems.length + (good.last.tick === lastSeq ? 0 : 1)
  return {
    kind,
    frames: t.frames,
    framesPerSecond: Math.round(t.frames / seconds),
    mib: t.bytes / 2 ** 20,
    connections: t.sessions,
    seconds,
    crashes,
    onErrorReports: after.reported.length - before.reported.length,
    serverErrors: server.length,
    answersMissing: t.missing,
    answersExtra: t.extra,
    internal: t.internal,
    undocumentedCloses: t.badClose,
    goodClient: goodProblems === 0 ? `ok (${good.calls} calls, ${lastSeq} broadcasts)` : `${goodProblems} problems: ${good.problems.slice(0, 3).join('; ')}`,
    leakedConnections: after.connections - 1,
    rss: `${MiB(before.rss)} → ${MiB(after.rss)} (peak ${MiB(peakRss)})`,
    heap: `${MiB(before.heapUsed)} → ${MiB(after.heapUsed)}`,
    closes: Object.fromEntries([...closes].sort((a, b) => a[0] - b[0])),
    signatures,
    ok: crashes === 0 && t.missing === 0 && t.extra === 0 && t.internal === 0 && t.badClose === 0 && goodProblems === 0 && server.length === 0 && !srv.exit,
  }
}

process.stdout.write(`fuzz bench: ${framesWanted * transports.length} frames over ${transports.join(' and ')}, ${concurrency} attacking connections at once, seed ${seed}\n`)
let ok = true
for (const kind of transports) {
  const r = await runTransport(kind)
  ok &&= r.ok
  process.stdout.write(
    [
      `\n${r.kind}: ${r.ok ? 'PASS' : 'FAIL'}`,
      `  frames           ${r.frames} (${r.mib.toFixed(0)} MiB) over ${r.connections} connections in ${r.seconds.toFixed(1)} s: ${r.framesPerSecond} frames/s`,
      `  crashes          ${r.crashes} (uncaught exceptions + unhandled rejections + process exits)`,
      `  answers missing  ${r.answersMissing}; extra ${r.answersExtra}; INTERNAL to client input ${r.internal}; server errors reported ${r.serverErrors} (client errors reported ${r.onErrorReports - r.serverErrors})`,
      `  closes           ${JSON.stringify(r.closes)}; undocumented ${r.undocumentedCloses}; connections left behind ${r.leakedConnections}`,
      `  good client      ${r.goodClient}`,
      `  server RSS       ${r.rss}; heap ${r.heap}`,
      ...[...r.signatures].map(([sig, e]) => `  × ${e.count}× ${sig}\n    ${e.example}`),
    ].join('\n') + '\n',
  )
}
process.exit(ok ? 0 : 1)
