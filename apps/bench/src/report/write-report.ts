import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { BenchResults } from '../harness/results.js'
import { benchDir } from '../harness/proc.js'
import { buildChartSvg, renderPng } from './chart.js'
import { renderMarkdown } from './markdown.js'
import { heapMarkdown, profileMarkdown } from './profile-summary.js'

const docsFile = join(benchDir, '../../docs/benchmarks.md')
const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

/** Writes results/<name>.json, .md, .svg, .png; refreshes docs/benchmarks.md between its markers. */
export async function writeReport(r: BenchResults, o: { resultsDir: string; name: string; profileDir?: string | undefined; docs: boolean }) {
  const written: string[] = []
  const put = (file: string, data: string | Buffer) => {
    writeFileSync(file, data)
    written.push(relative(process.cwd(), file))
  }
  const base = join(o.resultsDir, o.name)
  if (o.profileDir && existsSync(o.profileDir)) {
    r.profiles = readdirSync(o.profileDir)
      .filter((f) => /\.(cpu|heap)profile$/.test(f) && f.startsWith(`${r.mode}-`))
      .map((f) => join(o.profileDir!, f))
  }
  put(`${base}.json`, JSON.stringify(r, null, 2))
  const svg = buildChartSvg(r)
  put(`${base}.svg`, svg)
  let chart: string | undefined
  try {
    put(`${base}.png`, await renderPng(svg))
    chart = `${o.name}.png`
  } catch (e) {
    process.stderr.write(`chart: PNG rendering failed (${String(e)}); the SVG is written\n`)
  }
  let markdown = renderMarkdown(r, chart)
  const cpu = r.profiles?.filter((f) => f.endsWith('.cpuprofile')) ?? []
  const heap = r.profiles?.filter((f) => f.endsWith('.heapprofile')) ?? []
  if (cpu.length) markdown += `\n### CPU profiles (self time, server process, measured phase only)\n\n${profileMarkdown(cpu)}`
  if (heap.length) {
    const conns = (f: string) => r.contenders.find((c) => f.includes(`-${c.id}-idle`))?.memory?.n ?? 0
    markdown += `\n### Heap profiles (live sampled objects after connecting, by allocating function)\n\n${heapMarkdown(heap, conns)}`
  }
  put(`${base}.md`, markdown)
  if (o.docs && existsSync(docsFile)) {
    const doc = readFileSync(docsFile, 'utf8')
    const a = doc.indexOf(START)
    const b = doc.indexOf(END)
    if (a >= 0 && b > a) {
      const docMd = renderMarkdown(r, chart && `../apps/bench/results/${chart}`)
      put(docsFile, `${doc.slice(0, a + START.length)}\n\n${docMd}\n${doc.slice(b)}`)
    }
  }
  return { markdown, written }
}
