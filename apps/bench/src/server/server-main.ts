// A contender's server in a process of its own, driven by the harness over IPC.
// argv[2]: ServerConfig as JSON.
import { readdirSync, readFileSync } from 'node:fs'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { announce, serveIpc } from '../wire/ipc.js'
import { nowUs, sleep } from '../wire/clock.js'
import type { BenchServer, ServerConfig } from './bench-server.js'
import { PhaseProfiler } from './profiler.js'

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig

// Before @rt/server loads: it finds the SDK the way an application's server would.
const otelMode = process.env.RT_BENCH_OTEL
if (otelMode) {
  const otel = (await import('./otel-sdk.js')).registerOtelSdk(otelMode)
  process.on('exit', () => process.stderr.write(`[otel] ${otel.spans()} spans exported by the SDK in this server process\n`))
}

async function start(): Promise<BenchServer> {
  switch (config.kind) {
    case 'rt-ws':
    case 'rt-uws':
      return (await import('./rt-server.js')).startRtServer(config)
    case 'raw-ws':
      return (await import('./raw-ws-server.js')).startRawWsServer()
    case 'raw-uws':
      return (await import('./raw-uws-server.js')).startRawUwsServer(config)
    case 'sio':
      return (await import('./sio-server.js')).startSioServer(config)
  }
}

/**
 * CPU (µs) of the process's threads other than the main one (V8's compiler and GC helpers,
 * libuv's pool), from /proc in 10 ms ticks; null where there is no /proc.
 */
function helperCpu(): number | null {
  try {
    let us = 0
    for (const t of readdirSync('/proc/self/task')) {
      if (t === String(process.pid)) continue
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      us += (Number(f[11]) + Number(f[12])) * 10_000 // utime + stime, in ticks of 10 ms
    }
    return us
  } catch {
    return null
  }
}

const server = await start()
const profiler = new PhaseProfiler()
const turn = () => new Promise<void>((r) => setImmediate(r))
const gc = (globalThis as { gc?: () => void }).gc

export interface FanoutArgs {
  messages: number
  /** Ticks sent back to back in one event-loop turn. */
  burst: number
  /** 0: the next burst on the next turn (as fast as the server goes); else the pace between bursts. */
  intervalMs: number
}

serveIpc({
  async fanout({ messages, burst, intervalMs }: FanoutArgs) {
    const startUs = nowUs()
    let seq = 0
    for (let b = 1; seq < messages; b++) {
      for (let i = 0; i < burst && seq < messages; i++) server.broadcast(seq++)
      if (intervalMs > 0) await sleep(Math.max(0, startUs / 1000 + b * intervalMs - nowUs() / 1000))
      else await turn()
    }
    return { startUs, endUs: nowUs() }
  },
  cpu: () => {
    const u = process.cpuUsage()
    return u.user + u.system
  },
  helperCpu: () => helperCpu(),
  async mem() {
    for (let i = 0; i < 3; i++) {
      gc?.()
      await sleep(30)
    }
    const m = process.memoryUsage()
    // V8's young generation: its committed pages stay in RSS after GC, at the size a burst of
    // allocation grew it to (up to 2 × 16 MiB), whatever the number of connections.
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, young }
  },
  roomSize: () => server.roomSize(),
  state: async () => (await server.state?.()) ?? {},
  profileStart: () => profiler.start(),
  profileStop: ({ file }: { file: string }) => profiler.stop(file),
  heapStart: () => profiler.heapStart(),
  heapStop: ({ file }: { file: string }) => profiler.heapStop(file),
  /** A full heap snapshot after GC (`bench:memory` diffs two of them). */
  heapSnapshot: ({ file }: { file: string }) => {
    gc?.()
    return writeHeapSnapshot(file)
  },
  async exit() {
    await Promise.race([server.close().catch(() => {}), sleep(3_000)])
    setImmediate(() => process.exit(0))
  },
})
process.on('SIGTERM', () => process.exit(0))
announce({ port: server.port, pid: process.pid, facts: server.facts ?? {} })
