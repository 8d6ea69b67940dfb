import type { Contender } from '../harness/contenders.js'
import { closeAll, connect, fanout, memory, roomSize, type Rig } from '../harness/measure.js'
import type { ConnectResult, FanoutResult } from '../harness/results.js'
import { startServer } from '../harness/run-contender.js'
import { medianRun as median } from '../harness/median.js'

export interface LargeSizes {
  mode: 'full' | 'smoke'
  /** The reference size, then the large one (the fd ceiling of a process here is 20 000). */
  smallN: number
  largeN: number
  /** Ticks per fan-out, sent `burst` per event-loop turn. */
  messages: number
  burst: number
  /** Fan-outs per size; the median by CPU per delivery is kept. */
  repeats: number
  clientProcs: number
}

export const LARGE_SIZES: Record<LargeSizes['mode'], LargeSizes> = {
  full: { mode: 'full', smallN: 1_000, largeN: 19_000, messages: 50, burst: 10, repeats: 3, clientProcs: 4 },
  smoke: { mode: 'smoke', smallN: 20, largeN: 60, messages: 10, burst: 5, repeats: 1, clientProcs: 2 },
}

export interface LargeResult {
  id: string
  label: string
  small?: FanoutResult
  large?: FanoutResult
  /** Opening the sockets from `smallN` to `largeN` (connect + hello + authenticate + join). */
  connect?: ConnectResult
  /** After GC, per connection: from before the first socket to `largeN` open. */
  rssPerConn?: number
  heapPerConn?: number
  errors: string[]
}


/** One contender: fan-out at `smallN`, then the node filled to `largeN`, fan-out again, memory. */
export async function runLarge(c: Contender, sizes: LargeSizes, rig: Rig, log: (s: string) => void): Promise<LargeResult> {
  const r: LargeResult = { id: c.id, label: c.label, errors: [] }
  const srv = await startServer(c, { log })
  try {
    const bases = [`ws://127.0.0.1:${(srv.info as { port: number }).port}`]
    const timeout = (n: number) => 30_000 + (n * sizes.messages) / 20
    const measure = async (n: number) => {
      const runs: FanoutResult[] = []
      for (let i = 0; i < sizes.repeats; i++) runs.push(await fanout(rig, [srv], srv, n, { messages: sizes.messages, burst: sizes.burst, intervalMs: 0 }, timeout(n)))
      const m = median(runs)
      if (!runs.every((f) => f.complete)) r.errors.push(`fan-out at ${n} incomplete`)
      log(`[large ${c.id}] ${n} connections: ${m.cpuUsPerDelivery.toFixed(3)} µs CPU/delivery, ${Math.round(m.deliveriesPerSec)} deliveries/s`)
      return m
    }
    // Warm up, so the reference size does not pay for first-use code.
    await connect(rig, srv, bases, c.protocol, Math.min(200, sizes.smallN))
    await fanout(rig, [srv], srv, Math.min(200, sizes.smallN), { messages: sizes.messages, burst: sizes.burst, intervalMs: 0 }, timeout(200))
    await closeAll(rig, [srv])
    const before = await memory(srv)
    const first = await connect(rig, srv, bases, c.protocol, sizes.smallN)
    if (first.ready !== sizes.smallN) throw new Error(`${first.ready}/${sizes.smallN} connections opened`)
    r.small = await measure(sizes.smallN)
    const more = await connect(rig, srv, bases, c.protocol, sizes.largeN - sizes.smallN)
    r.connect = more
    log(`[large ${c.id}] +${more.ready} connections (${more.failed} failed): ${Math.round(more.perSec)}/s, ${more.cpuUsPerConn.toFixed(0)} µs server CPU each`)
    const open = first.ready + more.ready
    if (open !== sizes.largeN) throw new Error(`${open}/${sizes.largeN} connections open`)
    const members = await roomSize([srv])
    if (members !== sizes.largeN) throw new Error(`room has ${members} members, ${sizes.largeN} sockets are open`)
    const after = await memory(srv)
    r.rssPerConn = (after.rss - before.rss) / sizes.largeN
    r.heapPerConn = (after.heapUsed - before.heapUsed) / sizes.largeN
    r.large = await measure(sizes.largeN)
    await closeAll(rig, [srv])
  } catch (e) {
    r.errors.push(e instanceof Error ? e.message : String(e))
    await Promise.all(rig.clients.map((cl) => cl.request('closeAll', {}, 60_000).catch(() => {})))
  } finally {
    await srv.close()
  }
  return r
}
