import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { num, table } from './format.js'

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[]
  samples: number[]
  timeDeltas: number[]
}

export interface HotFunction {
  name: string
  where: string
  selfMs: number
  share: number
}

const shortUrl = (url: string) => {
  const m = /(packages\/[^?]+|node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?([^?]+))/.exec(url)
  const path = m ? (m[2] ?? m[1]!) : url.replace(/^file:\/\//, '').replace(/^node:/, 'node:')
  return path.length > 60 ? `…${path.slice(-59)}` : path
}

/** Self time per function of a `.cpuprofile`, highest first; `(idle)` is left out of the shares. */
export function hotFunctions(file: string, top = 15): { total: number; rows: HotFunction[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<string, { name: string; where: string; us: number }>()
  let total = 0
  p.samples.forEach((id, i) => {
    const n = byId.get(id)
    if (!n) return
    const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0
    const { functionName, url, lineNumber } = n.callFrame
    if (functionName === '(idle)') return
    total += dt
    const name = functionName || '(anonymous)'
    // tsx emits each TypeScript module on one line: a line number there says nothing.
    const where = url ? (lineNumber > 0 ? `${shortUrl(url)}:${lineNumber + 1}` : shortUrl(url)) : ''
    const key = `${name}@${where}`
    const e = self.get(key) ?? { name, where, us: 0 }
    e.us += dt
    self.set(key, e)
  })
  const rows = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / Math.max(1, total) }))
  return { total: total / 1000, rows }
}

export function profileMarkdown(files: string[], top = 12): string {
  return files
    .map((f) => {
      const { total, rows } = hotFunctions(f, top)
      return [
        `#### ${basename(f, '.cpuprofile')} (${num(total)} ms on CPU)`,
        '',
        table(['self %', 'self ms', 'function', 'where'], rows.map((r) => [num(r.share * 100, 1), num(r.selfMs, 1), `\`${r.name}\``, r.where])),
        '',
      ].join('\n')
    })
    .join('\n')
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: HeapNode[]
}

/** Live bytes by allocating function in a `.heapprofile` (sampling heap profiler), highest first. */
export function heapHotspots(file: string, top = 15): { total: number; rows: { name: string; where: string; bytes: number; share: number }[] } {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }
  const by = new Map<string, { name: string; where: string; bytes: number }>()
  let total = 0
  const walk = (n: HeapNode) => {
    const { functionName, url, lineNumber } = n.callFrame
    if (n.selfSize > 0) {
      total += n.selfSize
      const name = functionName || '(anonymous)'
      const where = url ? (lineNumber > 0 ? `${shortUrl(url)}:${lineNumber + 1}` : shortUrl(url)) : ''
      const key = `${name}@${where}`
      const e = by.get(key) ?? { name, where, bytes: 0 }
      e.bytes += n.selfSize
      by.set(key, e)
    }
    for (const c of n.children) walk(c)
  }
  walk(head)
  const rows = [...by.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top).map((e) => ({ ...e, share: e.bytes / Math.max(1, total) }))
  return { total, rows }
}

export function heapMarkdown(files: string[], perConn: (file: string) => number, top = 12): string {
  return files
    .map((f) => {
      const { total, rows } = heapHotspots(f, top)
      const n = perConn(f)
      return [
        `#### ${basename(f, '.heapprofile')} (${num(total / 1024)} KiB sampled live${n ? `, ${num(total / n)} B per connection` : ''})`,
        '',
        table(['share %', n ? 'B/conn' : 'KiB', 'allocated in', 'where'], rows.map((r) => [num(r.share * 100, 1), n ? num(r.bytes / n) : num(r.bytes / 1024), `\`${r.name}\``, r.where])),
        '',
      ].join('\n')
    })
    .join('\n')
}
