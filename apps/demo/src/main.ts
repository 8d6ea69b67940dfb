// The demo launcher: builds the page, starts the node process(es) and the agent process, and
// stops them all on Ctrl-C.
//
//   tsx src/main.ts                  one node, in-memory bus           (pnpm start)
//   tsx src/main.ts --cluster        three nodes on NATS               (pnpm cluster)
//   --transport=ws|uws or RT_TRANSPORT; PORT (0: free ports), PORTS=a,b,c, WS_PORTS (uws); NATS_URL; HOST
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildWeb } from './build-web.js'
import { WS_PATH, parseTransport } from './transport.js'

const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url))
const DEFAULT_NATS = 'nats://127.0.0.1:4222'

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const cluster = process.argv.includes('--cluster')
const transport = parseTransport(arg('transport') ?? process.env.RT_TRANSPORT)
const host = process.env.HOST ?? '127.0.0.1'
const count = cluster ? 3 : 1
const agentToken = process.env.AGENT_TOKEN ?? randomBytes(18).toString('base64url')
// The inspector's password (user `admin`): printed below, so whoever runs the demo can look.
const inspectPassword = process.env.INSPECT_PASSWORD ?? randomBytes(9).toString('base64url')
const log = (line: string) => process.stdout.write(`${line}\n`)

async function freePort(): Promise<number> {
  const s = createServer().listen(0, host)
  await once(s, 'listening')
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}

/** `list` (PORTS / WS_PORTS) if given, else `base + offset + i`, else free ports when base is 0. */
async function ports(list: string | undefined, base: number, offset: number): Promise<number[]> {
  const fixed = list?.split(',').map(Number)
  if (fixed && fixed.length >= count && fixed.every((p) => Number.isInteger(p) && p > 0)) return fixed.slice(0, count)
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(base === 0 ? await freePort() : base + offset + i)
  return out
}

function reachable(url: string): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const s = createConnection({ host: u.hostname, port: Number(u.port || 4222) })
    const done = (ok: boolean) => (s.destroy(), resolve(ok))
    s.once('data', (d) => done(d.toString().startsWith('INFO')))
    s.once('error', () => done(false))
    s.setTimeout(1_000, () => done(false))
  })
}

function natsBinary(): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')]) {
    try {
      accessSync(`${dir}/nats-server`, constants.X_OK)
      return `${dir}/nats-server`
    } catch {}
  }
  return undefined
}

const children: { name: string; child: ChildProcess }[] = []
let shuttingDown = false

function start(name: string, file: string, env: Record<string, string>): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--conditions=@rt/source', '--import', 'tsx', file], {
    cwd: DEMO_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.push({ name, child })
  return new Promise((resolve, reject) => {
    let isReady = false
    child.on('message', (m: { type?: string; node?: string }) => {
      if (m.type !== 'ready') return
      if (!isReady) {
        isReady = true
        return resolve({ child, ready: m })
      }
      if (name === 'agent' && m.node) log(`  agent reconnected to node ${m.node}`)
    })
    child.once('exit', (code, signal) => {
      if (!isReady) reject(new Error(`${name} exited before it was ready (${signal ?? code})`))
      else if (!shuttingDown) log(`  ${name} exited (${signal ?? code}); the others keep running`)
    })
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

async function shutdown(code: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => {})
  shuttingDown = true
  if (code === 0) log('\nStopping…')
  // The agent first, so it does not chase the closing nodes; then the nodes; then NATS.
  for (const stage of [(n: string) => n === 'agent', (n: string) => n.startsWith('node '), (n: string) => n === 'nats-server']) {
    await Promise.all(children.filter((c) => stage(c.name)).map((c) => stopChild(c.child)))
  }
  if (code === 0) log('Stopped.')
  process.exit(code)
}

process.on('SIGINT', () => void shutdown(0))
process.on('SIGTERM', () => void shutdown(0))

try {
  await buildWeb()

  let natsUrl: string | undefined
  if (cluster) {
    natsUrl = process.env.NATS_URL ?? DEFAULT_NATS
    if (!(await reachable(natsUrl))) {
      const bin = natsBinary()
      if (process.env.NATS_URL || !bin) {
        throw new Error(`No NATS server at ${natsUrl}. Start one with JetStream (\`nats-server -a 127.0.0.1 -js\`, Debian package nats-server) or set NATS_URL.`)
      }
      // Nothing on the default address: run a local nats-server for the demo's lifetime, with
      // JetStream (the rooms' message history lives there), in a store removed at the end.
      const store = mkdtempSync(join(tmpdir(), 'rt-demo-js-'))
      process.once('exit', () => rmSync(store, { recursive: true, force: true }))
      const child = spawn(bin, ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', store], { stdio: 'ignore' })
      children.push({ name: 'nats-server', child })
      for (let i = 0; i < 100 && !(await reachable(natsUrl)); i++) await new Promise((r) => setTimeout(r, 50))
      if (!(await reachable(natsUrl))) throw new Error(`Could not start nats-server on ${natsUrl} (is port 4222 taken?). Set NATS_URL.`)
      log(`Started nats-server on ${natsUrl} (stopped with the demo)`)
    }
  }

  const base = Number(process.env.PORT ?? 8080)
  const httpPorts = await ports(process.env.PORTS, base, 0)
  // uWebSockets.js serves no page: it gets ports of its own (PORT + 10000 unless WS_PORTS says).
  const wsPorts = transport === 'ws' ? httpPorts : await ports(process.env.WS_PORTS, base, 10_000)
  const nodes = wsPorts.map((port) => ({ port, path: WS_PATH }))

  const started = await Promise.all(
    httpPorts.map((port, i) =>
      start(`node n${i + 1}`, 'src/node.ts', {
        PORT: String(port),
        WS_PORT: String(wsPorts[i]),
        HOST: host,
        RT_TRANSPORT: transport,
        NODE_ID: cluster ? `n${i + 1}` : 'n1',
        RT_NODES: JSON.stringify(nodes),
        RT_SELF: String(i),
        AGENT_TOKEN: agentToken,
        INSPECT_PASSWORD: inspectPassword,
        ...(natsUrl ? { NATS_URL: natsUrl } : {}),
      }),
    ),
  )
  const dial = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const urls = nodes.map((n) => `ws://${dial.includes(':') ? `[${dial}]` : dial}:${n.port}${n.path}`)
  const agent = await start('agent', 'src/agent.ts', { RT_URLS: urls.join(','), AGENT_TOKEN: agentToken })

  log('')
  log(`@rt demo — ${cluster ? `cluster of ${count} nodes on NATS ${natsUrl}` : 'one node, in-memory bus'}, transport ${transport}`)
  started.forEach(({ child, ready }, i) => log(`  node ${String(ready.nodeId)}  http://localhost:${httpPorts[i]}  (pid ${child.pid})`))
  log(`  agent "bot" connected to node ${String(agent.ready.node)}  (pid ${agent.child.pid})`)
  log('')
  const open = cluster ? `http://localhost:${httpPorts[0]} and http://localhost:${httpPorts[1]}` : `http://localhost:${httpPorts[0]}`
  log(`Open ${open} in two browser windows, pick two names, and chat. Ctrl-C stops everything.`)
  log(`Inspector: http://localhost:${httpPorts[0]}/inspect  (user admin, password ${inspectPassword}); metrics: http://localhost:${httpPorts[0]}/metrics`)
} catch (e) {
  process.stderr.write(`\n${e instanceof Error ? e.message : String(e)}\n`)
  await shutdown(1)
}
