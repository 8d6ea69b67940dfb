import type { ContenderId } from '../harness/contenders.js'
import type { BenchResults, ContenderResult } from '../harness/results.js'

const COLORS: Record<ContenderId, string> = {
  'rt-uws': '#1d4ed8',
  'rt-ws': '#60a5fa',
  'raw-uws': '#15803d',
  'raw-ws': '#86efac',
  sio: '#ea580c',
}

interface Panel {
  title: string
  value: (c: ContenderResult) => number | undefined
  format: (v: number) => string
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const short = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e4 ? `${Math.round(v / 1e3)}k` : v >= 100 ? v.toFixed(0) : v.toFixed(1))

function panel(p: Panel, cs: ContenderResult[], x: number, y: number, w: number, h: number): string {
  const values = cs.map((c) => p.value(c))
  const max = Math.max(1e-9, ...values.map((v) => (v !== undefined && Number.isFinite(v) ? v : 0)))
  const labelW = 120
  const barH = Math.min(28, (h - 50) / cs.length - 8)
  const out = [`<text x="${x}" y="${y + 18}" font-size="15" font-weight="bold" fill="#111">${esc(p.title)}</text>`]
  cs.forEach((c, i) => {
    const v = values[i]
    const by = y + 36 + i * (barH + 8)
    const len = v !== undefined && Number.isFinite(v) ? ((w - labelW - 80) * v) / max : 0
    out.push(
      `<text x="${x + labelW - 8}" y="${by + barH * 0.7}" font-size="13" text-anchor="end" fill="#333">${esc(c.label)}</text>`,
      `<rect x="${x + labelW}" y="${by}" width="${Math.max(1, len)}" height="${barH}" rx="3" fill="${COLORS[c.id]}"/>`,
      `<text x="${x + labelW + len + 6}" y="${by + barH * 0.7}" font-size="13" fill="#111">${v !== undefined && Number.isFinite(v) ? esc(p.format(v)) : 'n/a'}</text>`,
    )
  })
  return out.join('\n')
}

/** A 3×2 grid of bar charts as SVG: no browser, rendered to PNG by resvg. */
export function buildChartSvg(r: BenchResults): string {
  const s = r.sizes as { bigN: number; smallN: number; rpc: { clients: number } }
  const panels: Panel[] = [
    { title: `Fan-out ${s.bigN.toLocaleString('en-US')} conns: deliveries per server-CPU-second`, value: (c) => c.fanoutBig?.deliveriesPerCpuSec, format: short },
    { title: `Fan-out ${s.smallN.toLocaleString('en-US')} conns: deliveries per server-CPU-second`, value: (c) => c.fanoutSmall?.deliveriesPerCpuSec, format: short },
    { title: `Fan-out ${s.bigN.toLocaleString('en-US')} conns: deliveries/s (wall clock)`, value: (c) => c.fanoutBig?.deliveriesPerSec, format: short },
    { title: `RPC, ${s.rpc.clients} clients: calls/s`, value: (c) => c.rpc?.callsPerSec, format: short },
    { title: `Idle memory: KiB RSS per connection (lower is better)`, value: (c) => (c.memory ? c.memory.rssPerConn / 1024 : undefined), format: (v) => v.toFixed(1) },
    { title: `Connection setup: connections/s`, value: (c) => c.connect?.perSec, format: short },
  ]
  const W = 1240
  const PW = 600
  const PH = 230
  const H = 70 + Math.ceil(panels.length / 2) * PH
  const body = panels.map((p, i) => panel(p, r.contenders, 20 + (i % 2) * (PW + 20), 60 + Math.floor(i / 2) * PH, PW, PH - 20))
  const m = r.machine
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="20" y="30" font-size="20" font-weight="bold" fill="#111">@rt vs Socket.IO, raw ws, raw uWebSockets.js (${esc(r.mode)} run)</text>`,
    `<text x="20" y="50" font-size="12" fill="#555">${esc(`${m.cpu}, ${m.cores} cores, Node ${m.node}; servers and load clients share the machine; higher is better unless noted`)}</text>`,
    ...body,
    '</svg>',
  ].join('\n')
}

/** Renders the SVG to PNG with @resvg/resvg-js (prebuilt binary from npm, no browser). */
export async function renderPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js')
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: '#ffffff' }).render().asPng()
}
