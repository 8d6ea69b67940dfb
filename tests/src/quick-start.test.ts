// The README's quick start is examples/quick-start/quick-start.ts, verbatim; this runs that file
// as a user would (a Node process on the TypeScript source) and checks what it prints and that
// it exits by itself, with 0: the server listens on 127.0.0.1 and both ends are closed.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FILE = join(ROOT, 'examples/quick-start/quick-start.ts')

it('the README quick start is examples/quick-start/quick-start.ts', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const block = /## Quick start\n[\s\S]*?```ts\n([\s\S]*?)```\n/.exec(readme)?.[1]
  expect(block).toBe(readFileSync(FILE, 'utf8'))
})

it('runs: the client gets the event and the result, then both close and the process exits 0', { timeout: 30_000 }, async () => {
  // Where `@rt/*`, `ws` and `zod` resolve as for tests/src, in a folder git ignores by itself.
  const generated = join(ROOT, 'tests/.generated')
  mkdirSync(generated, { recursive: true })
  writeFileSync(join(generated, '.gitignore'), '*\n')
  const dir = mkdtempSync(join(generated, 'quick-start-'))
  try {
    copyFileSync(FILE, join(dir, 'quick-start.ts'))
    const child = spawn(process.execPath, ['--conditions=@rt/source', '--import', 'tsx', join(dir, 'quick-start.ts')], {
      cwd: join(ROOT, 'tests'),
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    // No timer of ours ends it: a handle left open (a socket, a server) would keep it alive.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
    clearTimeout(timer)
    expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: '' })
    expect(out).toBe('ann hi\n{ ok: true }\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

it('listens on 127.0.0.1 only, on the given port', () => {
  expect(readFileSync(FILE, 'utf8')).toMatch(/createWsTransport\(\{ host: '127\.0\.0\.1', port: Number\(process\.env\.PORT \?\? 8080\) \}\)/)
})
