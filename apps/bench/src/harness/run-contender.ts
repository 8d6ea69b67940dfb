import { join } from 'node:path'
import { sleep } from '../wire/clock.js'
import type { Contender } from './contenders.js'
import { closeAll, connect, fanout, memory, memoryDelta, roomSize, rpc, type Rig } from './measure.js'
import { Child } from './proc.js'
import type { ContenderResult, FanoutResult } from './results.js'
import type { Sizes } from './sizes.js'
import { medianRun } from './median.js'

export interface RunOptions {
  /** Directory for `.cpuprofile` files of the measured phases; no profiling when unset. */
  profileDir?: string
  /** Extra node flags for server processes (e.g. `--cpu-prof`). */
  serverExecArgv?: string[]
  log(line: string): void
}

type Info = { port: number; pid: number; facts: Record<string, unknown> }

export function startServer(c: Contender, o: RunOptions, extra: Record<string, unknown> = {}, name = `server ${c.id}`) {
  return Child.fork<Info>(name, '../server/server-main.ts', { kind: c.id, ...extra }, {
    env: { NODE_ENV: 'production' },
    ...(o.serverExecArgv && { execArgv: o.serverExecArgv }),
  })
}

/** Every single-node scenario for one contender, on a fresh server process. */
export async function runContender(c: Contender, sizes: Sizes, rig: Rig, o: RunOptions): Promise<ContenderResult> {
  const r: ContenderResult = { id: c.id, label: c.label, facts: {}, errors: [] }
  const log = (s: string) => o.log(`[${c.id}] ${s}`)
  let server: Child<Info> | undefined
  try {
    server = await startServer(c, o)
    const srv = server
    r.facts = srv.info.facts
    const bases = [`ws://127.0.0.1:${srv.info.port}`]
    const timeout = (deliveries: number) => 20_000 + deliveries / 20 // ≥ 20k deliveries/s or give up
    const profiled = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
      if (!o.profileDir) return fn()
      await srv.request('profileStart')
      try {
        return await fn()
      } finally {
        await srv.request('profileStop', { file: join(o.profileDir, `${sizes.mode}-${c.id}-${phase}.cpuprofile`) }, 60_000)
      }
    }
    const throughput = async (n: number, m: number, tag: string) => {
      const runs: FanoutResult[] = []
      for (let i = 0; i < sizes.repeats; i++) {
        const run = () => fanout(rig, [srv], srv, n, { messages: m, burst: sizes.burst, intervalMs: 0 }, timeout(n * m))
        runs.push(i === 0 ? await profiled(`fanout-${tag}`, run) : await run())
      }
      const med = medianRun(runs)
      log(`fan-out ${n}×${m}: ${Math.round(med.deliveriesPerSec)} deliveries/s, ${med.cpuUsPerDelivery.toFixed(3)} µs CPU/delivery, p99 ${(med.p99Us / 1000).toFixed(1)} ms${med.complete ? '' : ' INCOMPLETE'}`)
      return { med, runs }
    }
    const paced = async (n: number) => {
      if (!sizes.paced) return undefined
      const intervalMs = (1000 * n) / sizes.paced.deliveriesPerSec
      const messages = Math.max(2, Math.round(sizes.paced.durationMs / intervalMs))
      const p = await fanout(rig, [srv], srv, n, { messages, burst: 1, intervalMs }, timeout(n * messages) + sizes.paced.durationMs)
      log(`paced ${n}: p50 ${(p.p50Us / 1000).toFixed(2)} ms, p99 ${(p.p99Us / 1000).toFixed(2)} ms${p.complete ? '' : ' INCOMPLETE'}`)
      return p
    }

    // Warm the JIT on a few of each operation before anything is measured.
    await connect(rig, srv, bases, c.protocol, sizes.warmup.n)
    await fanout(rig, [srv], srv, sizes.warmup.n, { messages: sizes.warmup.m, burst: sizes.burst, intervalMs: 0 }, 30_000)
    await rpc(rig, srv, Math.min(sizes.rpc.clients, sizes.warmup.n), { warmupMs: sizes.warmup.rpcMs, durationMs: 0, timeoutMs: 10_000 })
    await closeAll(rig, [srv])

    // Connect rate and idle memory at bigN, then the large fan-out on those connections.
    const before = await memory(srv)
    if (o.profileDir) await srv.request('heapStart')
    r.connect = await profiled('connect', () => connect(rig, srv, bases, c.protocol, sizes.bigN))
    log(`connect ${r.connect.ready}/${sizes.bigN}: ${Math.round(r.connect.perSec)}/s`)
    await sleep(300)
    r.memory = memoryDelta(r.connect.ready, before, await memory(srv))
    if (o.profileDir) await srv.request('heapStop', { file: join(o.profileDir, `${sizes.mode}-${c.id}-idle.heapprofile`) }, 60_000)
    log(`idle memory: ${(r.memory.rssPerConn / 1024).toFixed(1)} KiB RSS, ${(r.memory.heapPerConn / 1024).toFixed(1)} KiB heap per connection`)
    const members = await roomSize([srv])
    if (members !== r.connect.ready) r.errors.push(`room has ${members} members, ${r.connect.ready} sockets are open`)
    const big = await throughput(r.connect.ready, sizes.bigM, 'big')
    r.fanoutBig = big.med
    const pb = await paced(r.connect.ready)
    if (pb) r.pacedBig = pb
    await closeAll(rig, [srv])

    // Small fan-out, then RPC on some of the same connections.
    const small = await connect(rig, srv, bases, c.protocol, sizes.smallN)
    const sm = await throughput(small.ready, sizes.smallM, 'small')
    r.fanoutSmall = sm.med
    r.fanoutRuns = { big: big.runs, small: sm.runs }
    const ps = await paced(small.ready)
    if (ps) r.pacedSmall = ps
    const rpcArgs = { ...sizes.rpc, timeoutMs: sizes.rpc.warmupMs + sizes.rpc.durationMs + 20_000 }
    r.rpc = await profiled('rpc', () => rpc(rig, srv, sizes.rpc.clients, rpcArgs))
    log(`rpc ×${r.rpc.clients}: ${Math.round(r.rpc.callsPerSec)} calls/s, p99 ${(r.rpc.p99Us / 1000).toFixed(2)} ms, ${r.rpc.cpuUsPerCall.toFixed(2)} µs CPU/call, errors ${r.rpc.errors}`)
    await closeAll(rig, [srv])
  } catch (e) {
    r.errors.push(e instanceof Error ? e.message : String(e))
    log(`FAILED: ${r.errors.at(-1)}`)
    await Promise.all(rig.clients.map((cl) => cl.request('closeAll', {}, 30_000).catch(() => {})))
  } finally {
    await server?.close()
  }
  return r
}
