import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { publint } from 'publint'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../packages/', import.meta.url))
const packages = readdirSync(root).filter((d) => existsSync(`${root}${d}/package.json`))

// Runs on the built output (the test command builds first): what a user installs.
describe.each(packages)('package %s', (dir) => {
  const pkgDir = `${root}${dir}`
  const pkg = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as { name: string; exports: Record<string, unknown> }

  it('has a correct exports map (publint)', async () => {
    expect(existsSync(`${pkgDir}/dist/index.js`), `${pkg.name} is not built: run \`pnpm build\``).toBe(true)
    const { messages } = await publint({ pkgDir, level: 'warning', strict: true, pack: 'npm' })
    expect(messages.map((m) => `${m.code} ${JSON.stringify(m.args)}`)).toEqual([])
    expect(Object.keys(pkg.exports)).toContain('.')
  })

  it('loads from dist in plain Node, without the source condition', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pkg.name)}); console.log(Object.keys(m).length)`], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    })
    expect(Number(out.trim())).toBeGreaterThan(0)
  })
})
