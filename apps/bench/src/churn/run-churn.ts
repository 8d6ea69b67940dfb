import { CONTENDERS, type Contender } from '../harness/contenders.js'
import { memory, roomSize, type Rig } from '../harness/measure.js'
import type { Child } from '../harness/proc.js'
import { startServer } from '../harness/run-contender.js'
import { sleep } from '../wire/clock.js'

export interface ChurnSizes {
  mode: 'full' | 'smoke'
  /** Measured churn, after a warm-up churn of `warmupMs`. */
  durationMs: number
  warmupMs: number
  /** Cycles in flight at once, per load process. */
  concurrency: number
}

export const CHURN_SIZES: Record<ChurnSizes['mode'], ChurnSizes> = {
  full: { mode: 'full', durationMs: 30_000, warmupMs: 3_000, concurrency: 32 },
  smoke: { mode: 'smoke', durationMs: 600, warmupMs: 300, concurrency: 4 },
}

export interface ChurnResult {
  id: string
  label: string
  cycles: number
  failed: number
  cyclesPerSec: number
  /** Server CPU per connect + authenticate + join + close cycle. */
  cpuUsPerCycle: number
  /** After GC: at the start of the measured churn (after the warm-up), and once every socket is gone again. */
  heapBefore: number
  heapAfter: number
  rssBefore: number
  rssAfter: number
  /** What the server holds (@rt: connections, rooms, bus subscriptions, directory, presence), before and after. */
  stateBefore: Record<string, number>
  stateAfter: Record<string, number>
  errors: string[]
}

interface ChurnAnswer {
  cycles: number
  failed: number
  startUs: number
  endUs: number
}

async function churnAll(rig: Rig, bases: string[], c: Contender, durationMs: number, concurrency: number): Promise<ChurnAnswer[]> {
  const args = { bases, protocol: c.protocol, durationMs, concurrency, timeoutMs: 10_000 }
  return Promise.all(rig.clients.map((cl) => cl.request<ChurnAnswer>('churn', args, durationMs + 60_000)))
}

/** Waits until the server has let go of every socket (its room is empty, and @rt's state says so). */
async function drained(srv: Child): Promise<Record<string, number>> {
  const end = Date.now() + 15_000
  let state: Record<string, number> = {}
  while (Date.now() < end) {
    state = await srv.request<Record<string, number>>('state')
    if ((await roomSize([srv])) === 0 && !state.connections && !state.directoryConnections && !state.onlineUsers) return state
    await sleep(100)
  }
  return state
}

/** Connection churn on one contender's fresh server: cycles per second, CPU per cycle, and what is left after. */
export async function runChurn(c: Contender, sizes: ChurnSizes, rig: Rig, log: (s: string) => void): Promise<ChurnResult> {
  const r: ChurnResult = { id: c.id, label: c.label, cycles: 0, failed: 0, cyclesPerSec: 0, cpuUsPerCycle: 0, heapBefore: 0, heapAfter: 0, rssBefore: 0, rssAfter: 0, stateBefore: {}, stateAfter: {}, errors: [] }
  const srv = await startServer(c, { log })
  try {
    const bases = [`ws://127.0.0.1:${(srv.info as { port: number }).port}`]
    await churnAll(rig, bases, c, sizes.warmupMs, sizes.concurrency)
    r.stateBefore = await drained(srv)
    const before = await memory(srv)
    const cpu0 = await srv.request<number>('cpu')
    const parts = await churnAll(rig, bases, c, sizes.durationMs, sizes.concurrency)
    const cpu1 = await srv.request<number>('cpu')
    r.stateAfter = await drained(srv)
    const after = await memory(srv)
    r.cycles = parts.reduce((a, p) => a + p.cycles, 0)
    r.failed = parts.reduce((a, p) => a + p.failed, 0)
    const wallMs = (Math.max(...parts.map((p) => p.endUs)) - Math.min(...parts.map((p) => p.startUs))) / 1000
    r.cyclesPerSec = (r.cycles / wallMs) * 1000
    r.cpuUsPerCycle = (cpu1 - cpu0) / Math.max(1, r.cycles)
    Object.assign(r, { heapBefore: before.heapUsed, heapAfter: after.heapUsed, rssBefore: before.rss, rssAfter: after.rss })
    const left = Object.keys(r.stateBefore).filter((k) => r.stateAfter[k] !== r.stateBefore[k])
    if (left.length > 0) r.errors.push(`not back to where it was: ${left.map((k) => `${k} ${r.stateBefore[k]} → ${r.stateAfter[k]}`).join(', ')}`)
    if (r.failed > 0) r.errors.push(`${r.failed} cycles failed`)
    log(`[churn ${c.id}] ${r.cycles} cycles, ${Math.round(r.cyclesPerSec)}/s, ${r.cpuUsPerCycle.toFixed(0)} µs CPU/cycle, heap ${((after.heapUsed - before.heapUsed) / 1024).toFixed(0)} KiB after (${((after.heapUsed - before.heapUsed) / Math.max(1, r.cycles)).toFixed(1)} B/cycle)${r.errors.length ? ` ERRORS: ${r.errors.join('; ')}` : ''}`)
  } catch (e) {
    r.errors.push(e instanceof Error ? e.message : String(e))
  } finally {
    await srv.close()
  }
  return r
}

export const churnContenders = (ids?: string[]): Contender[] => CONTENDERS.filter((c) => !ids || ids.includes(c.id))
