import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Limits } from '@rt/server'

export type TransportKind = 'ws' | 'uws'

/** What the fuzz server reports about itself. */
export interface ServerStats {
  uncaught: string[]
  unhandled: string[]
  /** onError reports; `code` when the error was an RtError. */
  reported: { where: string; error: string; code?: string }[]
  /** Disconnects by close code, as the server saw them. */
  closes: Record<string, number>
  connections: number
  heapUsed: number
  rss: number
  seq: number
}

/** Node flags that run the fuzz server on TypeScript source. @default tsx */
const TSX = ['--import', 'tsx', '--conditions=@rt/source']

/** Forks tests/src/fuzz/fuzz-server.ts; disposes with SIGKILL if it is still running. */
export async function startFuzzServer(kind: TransportKind, limits: Partial<Limits> = {}, loader: string[] = TSX) {
  const file = fileURLToPath(new URL('./fuzz-server.ts', import.meta.url))
  const child: ChildProcess = fork(file, [kind, JSON.stringify(limits)], {
    execArgv: [...loader, '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  })
  let next = 0
  const pending = new Map<number, (v: unknown) => void>()
  let exit: { code: number | null; signal: string | null } | undefined
  const ready = new Promise<{ port: number; nodeId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fuzz server did not start')), 30_000)
    child.on('message', (m: { ready?: boolean; port: number; nodeId: string; id?: number; value?: unknown }) => {
      if (m.ready) {
        clearTimeout(timer)
        resolve({ port: m.port, nodeId: m.nodeId })
      } else if (m.id !== undefined) {
        pending.get(m.id)?.(m.value)
        pending.delete(m.id)
      }
    })
    child.once('exit', (code, signal) => {
      exit = { code, signal }
      clearTimeout(timer)
      reject(new Error(`fuzz server exited (${code ?? signal})`))
      for (const r of pending.values()) r(undefined)
      pending.clear()
    })
  })
  const { port, nodeId } = await ready
  const command = <T>(cmd: string, arg?: unknown): Promise<T> => {
    if (exit) return Promise.reject(new Error(`fuzz server exited (${exit.code ?? exit.signal})`))
    const id = next++
    return new Promise<T>((resolve, reject) => {
      pending.set(id, (v) => (v === undefined ? reject(new Error('fuzz server exited')) : resolve(v as T)))
      child.send({ id, cmd, arg })
    })
  }
  return {
    child,
    port,
    nodeId,
    url: `ws://127.0.0.1:${port}`,
    /** Undefined while the process runs. */
    get exit() {
      return exit
    },
    stats: () => command<ServerStats>('stats'),
    /** Three full GCs, then the stats. */
    gc: () => command<ServerStats>('gc'),
    /** Starts (every `ms`) or stops (0) the broadcasts and publishes; resolves with the last seq. */
    ticks: (ms: number) => command<number>('ticks', ms),
    async [Symbol.asyncDispose]() {
      if (exit) return
      child.kill('SIGKILL')
      if (!exit) await once(child, 'exit')
    },
  }
}

export type FuzzServer = Awaited<ReturnType<typeof startFuzzServer>>
