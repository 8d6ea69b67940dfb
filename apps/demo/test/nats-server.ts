// A throwaway nats-server on a free loopback port (after tests/src/nats/nats-server.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants } from 'node:fs'
import { createConnection } from 'node:net'
import { delimiter, join } from 'node:path'
import { freePort } from './launch.js'

export interface NatsServer extends AsyncDisposable {
  readonly url: string
}

function binary(): string {
  for (const c of ['/usr/sbin/nats-server', ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'nats-server'))]) {
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {}
  }
  // Never skip: a missing nats-server fails the test (scripts/ensure-system-deps.sh installs it).
  throw new Error('nats-server not found (looked in /usr/sbin and on PATH): apt-get install nats-server')
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port })
    const done = (ok: boolean) => (s.destroy(), resolve(ok))
    s.once('data', (d) => done(d.toString().startsWith('INFO')))
    s.once('error', () => done(false))
    s.setTimeout(1_000, () => done(false))
  })
}

export async function startNatsServer(): Promise<NatsServer> {
  const port = await freePort()
  let log = ''
  const child: ChildProcess = spawn(binary(), ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2_000)))
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  const end = Date.now() + 10_000
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > end) {
      kill()
      throw new Error(`nats-server did not start:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      process.off('exit', kill)
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      kill()
      await exited
    },
  }
}
