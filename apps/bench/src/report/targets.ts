import type { ContenderId } from '../harness/contenders.js'
import type { BenchResults, ContenderResult } from '../harness/results.js'
import { num } from './format.js'

type Pick = (c: ContenderResult) => number | undefined

/**
 * The issue's targets, each as [what, measured, met?]. Fan-out is judged on server CPU per
 * delivery (the stable figure on a shared 2-core machine; wall clock in brackets), RPC on
 * wall-clock calls/s as the issue states it (CPU per call in brackets).
 */
export function targetRows(r: BenchResults): string[][] {
  const get = (id: ContenderId) => r.contenders.find((c) => c.id === id)
  const rows: string[][] = []
  const cmp = (label: string, a: ContenderId, b: ContenderId, pick: Pick, min: number, wall?: Pick) => {
    const x = get(a)
    const y = get(b)
    if (!x || !y) return
    const v = (pick(x) ?? NaN) / (pick(y) ?? NaN)
    const w = wall ? (wall(x) ?? NaN) / (wall(y) ?? NaN) : undefined
    rows.push([label, `${num(v, 2)}×${w !== undefined ? ` (wall ${num(w, 2)}×)` : ''}`, Number.isFinite(v) ? (v >= min ? 'yes' : '**no**') : '—'])
  }
  const cpuBig: Pick = (c) => c.fanoutBig?.deliveriesPerCpuSec
  const cpuSmall: Pick = (c) => c.fanoutSmall?.deliveriesPerCpuSec
  const wallBig: Pick = (c) => c.fanoutBig?.deliveriesPerSec
  const wallSmall: Pick = (c) => c.fanoutSmall?.deliveriesPerSec
  for (const [tag, cpu, wall] of [['large', cpuBig, wallBig], ['small', cpuSmall, wallSmall]] as const) {
    cmp(`fan-out (${tag}) @rt+uWS ≥ 10× Socket.IO`, 'rt-uws', 'sio', cpu, 10, wall)
    cmp(`fan-out (${tag}) @rt+uWS ≥ 0.8× raw uWS`, 'rt-uws', 'raw-uws', cpu, 0.8, wall)
    cmp(`fan-out (${tag}) @rt+ws ≥ 1.5× Socket.IO`, 'rt-ws', 'sio', cpu, 1.5, wall)
    cmp(`fan-out (${tag}) @rt+ws ≥ 0.9× raw ws`, 'rt-ws', 'raw-ws', cpu, 0.9, wall)
  }
  const sio = get('sio')
  for (const id of ['rt-uws', 'rt-ws'] as const) {
    const c = get(id)
    if (!c?.rpc || !sio?.rpc) continue
    const v = c.rpc.callsPerSec / sio.rpc.callsPerSec
    const cpu = sio.rpc.cpuUsPerCall / c.rpc.cpuUsPerCall
    const lower = c.rpc.p99Us < sio.rpc.p99Us
    rows.push([
      `RPC ${c.label} ≥ 2× Socket.IO calls/s, lower p99`,
      `${num(v, 2)}× (CPU per call ${num(cpu, 2)}×), p99 ${num(c.rpc.p99Us / 1000, 2)} vs ${num(sio.rpc.p99Us / 1000, 2)} ms`,
      v >= 2 && lower ? 'yes' : '**no**',
    ])
  }
  const mem = (label: string, a: ContenderId, b: ContenderId, max: number) => {
    const x = get(a)?.memory?.rssPerConn
    const y = get(b)?.memory?.rssPerConn
    if (x === undefined || y === undefined) return
    const v = x / y
    rows.push([label, `${num(v, 2)}× (${num(x / 1024, 1)} vs ${num(y / 1024, 1)} KiB)`, v <= max ? 'yes' : '**no**'])
  }
  mem('idle memory @rt+uWS ≤ 2× raw uWS', 'rt-uws', 'raw-uws', 2)
  mem('idle memory @rt+ws ≤ 2× raw ws', 'rt-ws', 'raw-ws', 2)
  mem('idle memory @rt+uWS ≤ 1/5 Socket.IO', 'rt-uws', 'sio', 0.2)
  mem('idle memory @rt+ws ≤ 1/5 Socket.IO', 'rt-ws', 'sio', 0.2)
  for (const c of r.cluster) {
    if (c.id === 'sio') continue
    const a = c.cluster?.deliveriesPerSec
    const b = c.single?.deliveriesPerSec
    if (a === undefined || b === undefined) continue
    rows.push([`cross-node ${c.label} ≥ 0.5× single node`, `${num(a / b, 2)}×`, a / b >= 0.5 ? 'yes' : '**no**'])
  }
  for (const c of r.cluster) {
    if (c.id === 'sio' || !c.clusterPaced || !c.singlePaced) continue
    const v = c.clusterPaced.p99Us / c.singlePaced.p99Us
    rows.push([`cross-node ${c.label} fan-out p99 ≤ 1.5× single node (same offered load)`, `${num(v, 2)}× (${num(c.clusterPaced.p99Us / 1000, 2)} vs ${num(c.singlePaced.p99Us / 1000, 2)} ms)`, v <= 1.5 ? 'yes' : '**no**'])
  }
  return rows
}
