import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

export interface NatsServerOptions {
  /** Client port; a free one when omitted. */
  port?: number
  /** Server max_payload in bytes. @default the server's (1 MiB) */
  maxPayload?: number
  /** HTTP monitoring port (for /routez and friends). @default none */
  monitorPort?: number
  /** Extra command-line arguments, e.g. cluster flags. */
  args?: string[]
  /**
   * Enables JetStream (`-js`) with file storage in this directory (`-sd`), kept across `restart()`
   * and removed on dispose; `true` makes a fresh temporary one. @default off
   */
  jetstream?: boolean | { storeDir: string }
  /** `server_name` (JetStream clustering needs a distinct one per server). @default nats-server's */
  serverName?: string
}

/** A nats-server child process on 127.0.0.1, disposable with `await using`. */
export interface NatsServer {
  readonly port: number
  readonly url: string
  /** SIGTERM, then waits for exit. */
  stop(): Promise<void>
  /** SIGKILL, then waits for exit: a crash, as the clients see it. */
  kill(): Promise<void>
  /** Starts it again on the same port (stopping it first if it runs). */
  restart(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export interface NatsCluster {
  readonly servers: NatsServer[]
  readonly urls: string[]
  /** HTTP monitoring port of each server (/routez, /jsz …). */
  readonly monitorPorts: number[]
  /** Resolves once every server has a route to every other (again, after a restart). */
  routed(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 10_000

// A crashed or interrupted test run must not leave servers behind.
const children = new Set<ChildProcess>()
let exitHook = false
function track(child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => children.delete(child))
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL')
  })
}

/** Path of the nats-server binary; throws if there is none (NATS tests never skip silently). */
export function natsServerBinary(): string {
  const candidates = ['/usr/sbin/nats-server', ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'nats-server'))]
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {
      // next
    }
  }
  throw new Error('nats-server not found (looked in /usr/sbin and on PATH): install it to run the NATS tests')
}

/** A port that was free a moment ago: bind port 0, read it, release it. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!
}

/**
 * `n` distinct ports that were free a moment ago: all bound at once before any is released, so
 * the kernel cannot hand the same one out twice (one at a time, it did: a server's monitor and
 * cluster ports came out equal).
 */
export async function freePorts(n: number): Promise<number[]> {
  const held = await Promise.all(
    Array.from({ length: n }, async () => {
      const srv = createServer()
      srv.listen(0, HOST)
      await once(srv, 'listening')
      return srv
    }),
  )
  const ports = held.map((srv) => (srv.address() as { port: number }).port)
  await Promise.all(held.map((srv) => (srv.close(), once(srv, 'close'))))
  return ports
}

/** Resolves once a NATS server on `port` sends its INFO line. */
async function waitForInfo(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited at start:\n${log()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: HOST, port })
      const done = (v: boolean) => {
        sock.destroy()
        resolve(v)
      }
      sock.once('data', (d) => done(d.toString().startsWith('INFO')))
      sock.once('error', () => done(false))
      sock.setTimeout(1_000, () => done(false))
    })
    if (ok) return
    if (Date.now() > end) throw new Error(`nats-server on port ${port} did not start:\n${log()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Spawns `nats-server -a 127.0.0.1 -p <port>` and waits until it accepts connections. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerBinary()
  const port = options.port ?? (await freePort())
  let dir: string | undefined
  const args = ['-a', HOST, '-p', String(port), ...(options.args ?? [])]
  if (options.monitorPort !== undefined) args.push('-m', String(options.monitorPort))
  if (options.serverName !== undefined) args.push('--server_name', options.serverName)
  let storeDir: string | undefined
  if (options.jetstream) {
    storeDir = options.jetstream === true ? mkdtempSync(join(tmpdir(), 'rt-nats-js-')) : options.jetstream.storeDir
    args.push('-js', '-sd', storeDir)
  }
  if (options.maxPayload !== undefined) {
    dir = mkdtempSync(join(tmpdir(), 'rt-nats-'))
    const conf = join(dir, 'nats.conf')
    writeFileSync(conf, `max_payload: ${options.maxPayload}\n`)
    args.push('-c', conf)
  }

  let child: ChildProcess | undefined
  let output = ''

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null
  const start = async () => {
    output = ''
    const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child = c
    track(c)
    c.stderr!.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4_000)
    })
    try {
      await waitForInfo(port, c, () => output)
    } catch (e) {
      c.kill('SIGKILL')
      throw e
    }
  }
  const end = async (signal: NodeJS.Signals) => {
    const c = child
    if (!c || !running()) return
    const exited = once(c, 'exit')
    c.kill(signal)
    await exited
  }

  await start()
  let disposed = false
  return {
    port,
    url: `nats://${HOST}:${port}`,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM')
      await start()
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return
      disposed = true
      await end('SIGKILL')
      if (dir) rmSync(dir, { recursive: true, force: true })
      if (storeDir) rmSync(storeDir, { recursive: true, force: true })
    },
  }
}

/** Polls each server's /routez until it has a route to every other server. */
async function waitForRoutes(monitorPorts: number[]): Promise<void> {
  const end = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const counts = await Promise.all(
      monitorPorts.map(async (p) => {
        try {
          const res = await fetch(`http://${HOST}:${p}/routez`)
          return ((await res.json()) as { num_routes: number }).num_routes
        } catch {
          return 0
        }
      }),
    )
    if (counts.every((n) => n >= monitorPorts.length - 1)) return
    if (Date.now() > end) throw new Error(`NATS cluster routes not established: ${counts.join(', ')}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Polls each server's /jsz until every one knows the JetStream meta leader (streams can be created then). */
async function waitForJetStream(monitorPorts: number[]): Promise<void> {
  const end = Date.now() + 3 * START_TIMEOUT_MS
  for (;;) {
    const leaders = await Promise.all(
      monitorPorts.map(async (p) => {
        try {
          const res = await fetch(`http://${HOST}:${p}/jsz`)
          return ((await res.json()) as { meta_cluster?: { leader?: string } }).meta_cluster?.leader ?? ''
        } catch {
          return ''
        }
      }),
    )
    if (leaders.every((l) => l !== '' && l === leaders[0])) return
    if (Date.now() > end) throw new Error(`JetStream meta leader not agreed: ${leaders.join(', ')}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export interface NatsClusterOptions {
  /** JetStream on every server (file storage in a temporary dir per server, kept across restarts). @default false */
  jetstream?: boolean
}

/** Spawns `n` nats-servers routed into one cluster and waits until every route (and, with JetStream, the meta leader) is up. */
export async function startNatsCluster(n = 3, options: NatsClusterOptions = {}): Promise<NatsCluster> {
  // Client, cluster and monitor ports of every server in one draw: all distinct.
  const ports = await freePorts(3 * n)
  const clientPorts = ports.slice(0, n)
  const clusterPorts = ports.slice(n, 2 * n)
  const monitorPorts = ports.slice(2 * n)
  const name = `rt-test-${process.pid}-${clusterPorts[0]}`
  const servers: NatsServer[] = []
  const dispose = async () => {
    await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()))
  }
  try {
    for (let i = 0; i < n; i++) {
      const routes = clusterPorts.filter((_, j) => j !== i).map((p) => `nats://${HOST}:${p}`)
      const args = ['--cluster', `nats://${HOST}:${clusterPorts[i]}`, '--cluster_name', name, '--routes', routes.join(',')]
      const js = options.jetstream ? { jetstream: true, serverName: `${name}-s${i}` } : {}
      servers.push(await startNatsServer({ args, port: clientPorts[i]!, monitorPort: monitorPorts[i]!, ...js }))
    }
    await waitForRoutes(monitorPorts)
    if (options.jetstream) await waitForJetStream(monitorPorts)
  } catch (e) {
    await dispose()
    throw e
  }
  const routed = async () => {
    await waitForRoutes(monitorPorts)
    if (options.jetstream) await waitForJetStream(monitorPorts)
  }
  return { servers, urls: servers.map((s) => s.url), monitorPorts, routed, [Symbol.asyncDispose]: dispose }
}
