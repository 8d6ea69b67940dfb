// `npx -y pnpm@<version> demo`, the README's first command, started and stopped the way a person
// does it in a terminal: Ctrl-C sends SIGINT to the whole foreground process group (pnpm, the
// shells and scripts it runs, the launcher, the nodes, the agent). It must start without the
// "Ignored build scripts" box and stop cleanly: exit 0, no ELIFECYCLE, no process left behind.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { delimiter, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const packageManager = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { packageManager: string }).packageManager

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

it('`pnpm demo` starts with no warning box and Ctrl-C stops everything with exit 0', { timeout: 90_000 }, async () => {
  // The README's command, at the version the root package.json pins.
  expect(readFileSync(`${ROOT}README.md`, 'utf8')).toContain(`npx -y ${packageManager} demo`)
  // The pnpm that `npx -y pnpm@<version>` runs. It is started directly: npx adds npm's own
  // `sh -c` around it, which is npm's and not this repo's (it ends by the SIGINT, as for any
  // program stopped with Ctrl-C, and prints nothing).
  const pnpm = execFileSync('npx', ['-y', '-p', packageManager, '-c', 'command -v pnpm'], { cwd: ROOT, encoding: 'utf8' }).trim()
  // A fresh terminal: none of the npm_* settings of the pnpm or npx that runs this test; pnpm on
  // the PATH, as npx puts it there (the demo script calls `pnpm`).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))
  env.PATH = `${dirname(pnpm)}${delimiter}${env.PATH ?? ''}`
  const child = spawn(pnpm, ['demo'], { cwd: ROOT, env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const group = child.pid!
  const killAll = () => {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {}
  }
  process.once('exit', killAll)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  try {
    const end = Date.now() + 60_000
    while (!/^Open http/m.test(out)) {
      if (child.exitCode !== null) throw new Error(`the demo exited (${child.exitCode}):\n${out}`)
      if (Date.now() > end) throw new Error(`the demo did not start in 60 s:\n${out}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const [, port, pid] = /node n1\s+http:\/\/localhost:(\d+)\s+\(pid (\d+)\)/.exec(out) ?? []
    expect(port).toBeDefined()
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200)
    expect(out).not.toMatch(/Ignored build scripts|approve-builds|\bWARN\b|Warning/)

    // Ctrl-C.
    process.kill(-group, 'SIGINT')
    const timer = setTimeout(killAll, 20_000)
    const [code, signal] = await exited
    clearTimeout(timer)
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(out).toMatch(/^Stopped\.$/m) // the launcher closed the nodes and the agent, then exited 0
    expect(out).not.toMatch(/ELIFECYCLE|Command failed|ERR_PNPM/)
    expect(alive(Number(pid))).toBe(false)
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow()
  } finally {
    killAll()
    process.off('exit', killAll)
  }
})
