import { createHash } from 'node:crypto'
import { PAGE_SCRIPT } from './page-script.js'

const STYLE = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --dim: #6b7383; --line: #e3e6eb; --accent: #2f6fde; --warn: #c2410c; --ok: #15803d;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: var(--ink); color: #fff; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header .meta { color: #b8c0cc; font-size: 13px; }
#status { margin-left: auto; font-size: 13px; }
#status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: #8a93a3; }
#status[data-state=live]::before { background: #4ade80; }
#status[data-state=error]::before { background: #f87171; }
main { padding: 18px 24px 40px; display: grid; gap: 16px; max-width: 1400px; }
.cards { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; }
.card, section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.card { padding: 12px 16px; }
.card .label { color: var(--dim); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
section { padding: 12px 16px; overflow: auto; }
section h2 { font-size: 13px; margin: 0 0 8px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
.chart svg { width: 100%; height: 110px; display: block; }
.chart .legend { font-size: 12px; color: var(--dim); display: flex; gap: 10px; flex-wrap: wrap; }
.chart .legend i { display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
.chart .now { font-variant-numeric: tabular-nums; color: var(--ink); }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; }
.chip { display: inline-block; padding: 1px 7px; margin: 1px 4px 1px 0; border-radius: 10px; background: #eef2f8; font-size: 12px; }
.empty { color: var(--dim); font-style: italic; }
.filters { display: flex; gap: 8px; margin-bottom: 8px; }
.filters input { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; width: 140px; }
button.disconnect { font: inherit; font-size: 12px; color: var(--warn); background: none; border: 1px solid var(--warn); border-radius: 4px; padding: 1px 8px; cursor: pointer; }
.stale { color: var(--warn); }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, 1fr); } .charts, .two { grid-template-columns: 1fr; } }
`

const BODY = `
<header><h1>@rt inspector</h1><span class="meta">served by <b id="served-by">…</b> · <span id="updated">…</span></span><span id="status">connecting</span></header>
<main>
  <div class="cards">
    <div class="card"><div class="label">Nodes</div><div class="value" id="stat-nodes">–</div></div>
    <div class="card"><div class="label">Connections</div><div class="value" id="stat-connections">–</div></div>
    <div class="card"><div class="label">Users online</div><div class="value" id="stat-users">–</div></div>
    <div class="card"><div class="label">Rooms</div><div class="value" id="stat-rooms">–</div></div>
    <div class="card"><div class="label">Topic subscriptions</div><div class="value" id="stat-subscriptions">–</div></div>
  </div>
  <div class="charts">
    <section class="chart" id="chart-frames"><h2>Frames / s</h2></section>
    <section class="chart" id="chart-calls"><h2>Calls / s</h2></section>
    <section class="chart" id="chart-deliveries"><h2>Deliveries / s</h2></section>
    <section class="chart" id="chart-connections"><h2>Connections</h2></section>
  </div>
  <section><h2>Nodes</h2><table id="nodes"><thead><tr><th>node</th><th>up</th><th>heartbeat</th><th class="num">connections</th><th>by role</th><th class="num">subscriptions</th><th class="num">frames in/s</th><th class="num">frames out/s</th></tr></thead><tbody></tbody></table></section>
  <div class="two">
    <section><h2>Rooms <span id="rooms-note"></span></h2><table id="rooms"><thead><tr><th>room</th><th class="num">members</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Topics</h2><table id="topics"><thead></thead><tbody></tbody></table></section>
  </div>
  <section><h2>Presence</h2><div id="presence"></div></section>
  <section><h2>Connections</h2>
    <div class="filters"><input id="f-node" placeholder="node"><input id="f-role" placeholder="role"><input id="f-user" placeholder="user"><input id="f-room" placeholder="room"></div>
    <table id="conns"><thead><tr><th>connection</th><th>node</th><th>user</th><th>role</th><th>connected</th><th></th></tr></thead><tbody></tbody></table>
  </section>
</main>`

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`
const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/** The page, with its settings in data attributes, and a CSP that admits only its own inline script and style. */
export function renderPage(config: { base: string; intervalMs: number; disconnect: boolean }): { html: string; csp: string } {
  const html = `<!doctype html>
<html lang="en" data-base="${attr(config.base)}" data-interval="${config.intervalMs}" data-disconnect="${config.disconnect}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>@rt inspector</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>${BODY}
<script>${PAGE_SCRIPT}</script>
</body></html>`
  const csp = `default-src 'none'; script-src ${hash(PAGE_SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
  return { html, csp }
}
