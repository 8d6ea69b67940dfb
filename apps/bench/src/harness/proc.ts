import { fork, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Answer } from '../wire/ipc.js'

export const benchDir = fileURLToPath(new URL('../..', import.meta.url))
const loader = new URL('../loader/register.mjs', import.meta.url).href
const live = new Set<ChildProcess>()

/** Kills every process the harness started that is still running. */
export async function killAll(): Promise<void> {
  const all = [...live]
  await Promise.all(all.map((c) => stop(c)))
}

/**
 * For a bench command's main: a line logger to stdout, every process stopped on Ctrl-C, and a
 * deadline after which every process is stopped and the command fails. `done()` clears the deadline.
 */
export function benchCommand(deadlineMinutes: number): { log: (line: string) => void; done: () => void } {
  const log = (s: string) => void process.stdout.write(`${s}\n`)
  process.once('SIGINT', () => void killAll().finally(() => process.exit(130)))
  const deadline = setTimeout(() => {
    log('deadline reached: stopping every process')
    void killAll().then(() => process.exit(1))
  }, deadlineMinutes * 60_000)
  return { log, done: () => clearTimeout(deadline) }
}

async function stop(c: ChildProcess, graceMs = 2_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return void live.delete(c)
  const exited = once(c, 'exit').catch(() => {})
  c.kill('SIGTERM')
  const t = setTimeout(() => c.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(t)
  live.delete(c)
}

export interface ForkOptions {
  /** Extra node flags (e.g. profiling). */
  execArgv?: string[]
  env?: Record<string, string>
  startTimeoutMs?: number
}

/** A Node child on TypeScript source, spoken to with numbered IPC requests. */
export class Child<Info = unknown> {
  private seq = 0
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private exitError: Error | undefined

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly info: Info,
  ) {
    proc.on('message', (m: Answer) => {
      const w = this.waiting.get(m.id)
      if (!w) return
      this.waiting.delete(m.id)
      if (m.ok) w.resolve(m.result)
      else w.reject(new Error(`${name}: ${m.error}`))
    })
    proc.once('exit', (code, signal) => {
      this.exitError = new Error(`${name} exited (${signal ?? code})`)
      for (const w of this.waiting.values()) w.reject(this.exitError)
      this.waiting.clear()
    })
  }

  get pid(): number {
    return this.proc.pid ?? -1
  }

  static async fork<I>(name: string, script: string, args: unknown, o: ForkOptions = {}): Promise<Child<I>> {
    const file = fileURLToPath(new URL(script, import.meta.url))
    const proc = fork(file, [JSON.stringify(args)], {
      cwd: benchDir,
      // Our loader, not tsx: see src/loader/register.mjs.
      execArgv: ['--import', loader, '--conditions=@rt/source', '--expose-gc', ...(o.execArgv ?? [])],
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    })
    live.add(proc)
    proc.once('exit', () => live.delete(proc))
    try {
      const info = await new Promise<I>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not start`)), o.startTimeoutMs ?? 30_000)
        proc.on('message', (m: { ready?: I }) => {
          if (m && typeof m === 'object' && 'ready' in m) {
            clearTimeout(timer)
            resolve(m.ready as I)
          }
        })
        proc.once('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`${name} exited with ${code} while starting`))
        })
      })
      return new Child(name, proc, info)
    } catch (e) {
      await stop(proc)
      throw e
    }
  }

  request<T>(cmd: string, args: unknown = {}, timeoutMs = 30_000): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError)
    const id = ++this.seq
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
      this.proc.send({ id, cmd, args })
    })
  }

  /** Asks the child to exit cleanly (so profiles get written); kills it if it does not. */
  async close(graceMs = 5_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const exited = once(this.proc, 'exit').catch(() => {})
    this.request('exit', {}, graceMs).catch(() => {})
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(t)
    live.delete(this.proc)
  }
}

/** Starts a system program (nats-server, redis-server) that the harness stops at the end. */
export function spawnProgram(cmd: string, args: string[]): ChildProcess {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(proc)
  proc.once('exit', () => live.delete(proc))
  return proc
}

export { stop as stopProcess }
