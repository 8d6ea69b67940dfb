// Runs the demo the way a person does (src/main.ts, the `start` / `cluster` scripts) and reads
// what it prints: each node's URL and pid.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export interface DemoNode {
  id: string
  url: string
  port: number
  pid: number
}

export interface Demo extends AsyncDisposable {
  nodes: DemoNode[]
  output(): string
  /** SIGTERM to the launcher (as Ctrl-C would), then waits for it to exit; its exit code. */
  stop(): Promise<number | null>
}

export { freePort } from '@rt/tests/nats'

export async function launchDemo(args: string[], env: Record<string, string> = {}): Promise<Demo> {
  const child = spawn(process.execPath, ['--conditions=@rt/source', '--import', 'tsx', 'src/main.ts', ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const end = Date.now() + 30_000
  while (!/^Open http/m.test(out)) {
    if (child.exitCode !== null) throw new Error(`the demo exited (${child.exitCode}):\n${out}`)
    if (Date.now() > end) {
      kill()
      throw new Error(`the demo did not start in 30 s:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const nodes = [...out.matchAll(/node (\S+)\s+http:\/\/localhost:(\d+)\s+\(pid (\d+)\)/g)].map((m) => ({
    id: m[1]!,
    port: Number(m[2]),
    url: `http://127.0.0.1:${m[2]}`,
    pid: Number(m[3]),
  }))
  let stopped: Promise<number | null> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit') as Promise<[number | null]>
      child.kill('SIGTERM')
      const timer = setTimeout(kill, 20_000)
      const [code] = await exited
      clearTimeout(timer)
      process.off('exit', kill)
      return code
    })())
  return { nodes, output: () => out, stop, [Symbol.asyncDispose]: async () => void (await stop()) }
}
