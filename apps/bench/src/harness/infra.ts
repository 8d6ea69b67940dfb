import { existsSync, readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { sleep } from '../wire/clock.js'
import { spawnProgram, stopProcess } from './proc.js'

/** A free TCP port on 127.0.0.1 (listen on 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1')
      c.once('connect', () => (c.destroy(), r(true)))
      c.once('error', () => r(false))
    })
    if (ok) return
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`)
    await sleep(50)
  }
}

/** CPU time (user + system, µs) of any process, from /proc: for nats-server and redis-server. */
export function procCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(f[11]) + Number(f[12]) // utime, stime (fields 14 and 15)
    return (ticks * 1e6) / 100 // USER_HZ is 100 on Linux
  } catch {
    return 0
  }
}

export interface Program {
  url: string
  pid: number
  stop(): Promise<void>
}

const NATS = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(existsSync) ?? 'nats-server'
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync) ?? 'redis-server'

async function start(cmd: string, args: (port: number) => string[], scheme: string): Promise<Program> {
  const port = await freePort()
  const proc = spawnProgram(cmd, args(port))
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)))
  const died = new Promise<never>((_, reject) => proc.once('error', reject).once('exit', (c) => reject(new Error(`${cmd} exited (${c}): ${stderr}`))))
  await Promise.race([waitForPort(port, 10_000), died])
  died.catch(() => {})
  return { url: `${scheme}://127.0.0.1:${port}`, pid: proc.pid ?? -1, stop: () => stopProcess(proc) }
}

/** Our own nats-server on a free port, so results do not depend on a shared one. */
export const startNats = () => start(NATS, (p) => ['-a', '127.0.0.1', '-p', String(p)], 'nats')

/** The same with JetStream, file storage in `storeDir` (the history benchmark). */
export const startNatsJetStream = (storeDir: string) => start(NATS, (p) => ['-a', '127.0.0.1', '-p', String(p), '-js', '-sd', storeDir], 'nats')

/** Our own redis-server on a free port, no persistence. */
export const startRedis = () =>
  start(REDIS, (p) => ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], 'redis')
