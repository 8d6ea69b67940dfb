// The `rt` command end to end: spawned on contract files in a temp folder, on source and built.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { errorsOf, parseAsyncApi } from './asyncapi-parser.js'

const TESTS = fileURLToPath(new URL('..', import.meta.url))
const ROOT = join(TESTS, '..')
// Under tests/, so `zod` and `@rt/contract` resolve as they do for a user's project.
const GENERATED = join(TESTS, '.generated')
mkdirSync(GENERATED, { recursive: true })
writeFileSync(join(GENERATED, '.gitignore'), '*\n')
const dir = mkdtempSync(join(GENERATED, 'asyncapi-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** `rt …` on source (tsx, `@rt/source`) or on the built package (`dist/cli.js`, plain Node). */
function rt(args: string[], built = false): Promise<Run> {
  const argv = built ? [join(ROOT, 'packages/asyncapi/dist/cli.js'), ...args] : ['--import', 'tsx', '--conditions=@rt/source', join(ROOT, 'packages/asyncapi/src/cli.ts'), ...args]
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

function file(name: string, source: string): string {
  writeFileSync(join(dir, name), source)
  return name
}

const contract = (join: string, extra = '') => `import * as z from 'zod'
import { defineContract } from '@rt/contract'
export const contract = defineContract({
  shared: { clientToServer: { ping: { input: z.object({}), output: z.object({ at: z.number() }) } } },
  roles: {
    user: {
      clientToServer: { join: { input: ${join}, output: z.object({ members: z.number() }) }${extra} },
      serverToClient: { feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room: z.string() }), history: { size: 50 } } },
    },
  },
})
`
const v1 = file('v1.ts', contract('z.object({ room: z.string().max(64) })'))
const same = file('same.ts', contract('z.object({ room: z.string().max(64) })'))
const narrowed = file('narrowed.ts', contract('z.object({ room: z.string().max(32) })'))
const safe = file('safe.ts', contract('z.object({ room: z.string().max(64), invite: z.string().optional() })', ', leave: { input: z.object({}), output: z.object({}) }'))
const regexOld = file('regex-old.ts', contract('z.object({ room: z.string().regex(/^[a-z]+$/) })'))
const regexNew = file('regex-new.ts', contract('z.object({ room: z.string().regex(/^[a-z0-9]+$/) })'))

describe.concurrent('rt asyncapi', () => {
  it('writes a YAML document that the AsyncAPI parser accepts, with title, version and server from the flags', { timeout: 60_000 }, async () => {
    const r = await rt(['asyncapi', v1, '--title', 'Chat API', '--version', '2.0.0', '--server', 'prod=wss://chat.example.com/rt'])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toMatch(/^asyncapi: 3\.0\.0\ninfo:\n {2}title: Chat API\n {2}version: 2\.0\.0\n/)
    expect(r.stdout).toContain('    host: chat.example.com\n    protocol: wss\n    pathname: /rt\n')
    const [parsed] = await parseAsyncApi([r.stdout])
    expect(errorsOf(parsed!)).toEqual([])
    expect(parsed!.operations.map((o) => o.id)).toContain('user.feed.subscribe')
  })

  it('writes JSON with --format json, defaults from the nearest package.json, and notes what JSON Schema cannot say', { timeout: 30_000 }, async () => {
    const dated = file('dated.ts', `import * as z from 'zod'\nimport { defineContract } from '@rt/contract'\nexport default defineContract({ roles: { user: { serverToClient: { tick: { payload: z.object({ at: z.date() }) } } } } })\n`)
    const r = await rt(['asyncapi', dated, '--format', 'json'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as { info: { title: string; version: string }; operations: Record<string, unknown> }
    expect(doc.info).toMatchObject({ title: '@rt/tests', version: '0.0.0' })
    expect(Object.keys(doc.operations)).toContain('user.tick')
    expect(r.stderr).toBe('rt: note: #/components/schemas/user.tick.payload/properties/at: Date cannot be represented in JSON Schema: any value passes this document here, the server\'s schema still applies.\n')
  })

  it('runs from the built package in plain Node', { timeout: 30_000 }, async () => {
    expect(existsSync(join(ROOT, 'packages/asyncapi/dist/cli.js')), '@rt/asyncapi is not built: run `pnpm build`').toBe(true)
    const r = await rt(['asyncapi', v1, '--format', 'json'], true)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ asyncapi: '3.0.0' })
    expect(await rt(['check-compat', v1, narrowed], true)).toMatchObject({ code: 1 })
  })
})

describe.concurrent('rt check-compat', () => {
  it('exits 0 for the same contract in another file', { timeout: 30_000 }, async () => {
    expect(await rt(['check-compat', v1, same])).toEqual({ code: 0, stdout: 'No changes that clients can see.\n', stderr: '' })
  })

  it('exits 1 and lists a break, with where and why', { timeout: 30_000 }, async () => {
    const r = await rt(['check-compat', v1, narrowed])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe(
      'BREAKING          procedure "join": input narrowed: calls of old clients may be refused with BAD_REQUEST [user]\n' +
        '                    .room: length upper bound is now <= 32 (was <= 64)\n\n' +
        '1 breaking, 0 possibly breaking, 0 safe. Deployed clients may break.\n',
    )
  })

  it('exits 0 for safe changes, and lists them', { timeout: 30_000 }, async () => {
    const r = await rt(['check-compat', v1, safe])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('safe              procedure "join": input widened [user]')
    expect(r.stdout).toContain('safe              procedure "leave" added [user]')
    expect((await rt(['check-compat', v1, safe, '--no-safe'])).stdout).toBe('0 breaking, 0 possibly breaking, 2 safe. Deployed clients keep working.\n')
  })

  it('counts a possible break as a break unless --allow-possible', { timeout: 30_000 }, async () => {
    const r = await rt(['check-compat', regexOld, regexNew])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('POSSIBLY BREAKING procedure "join": input narrowed')
    expect(await rt(['check-compat', regexOld, regexNew, '--allow-possible'])).toMatchObject({ code: 0 })
  })

  it('reports in JSON with --json', { timeout: 30_000 }, async () => {
    const r = await rt(['check-compat', v1, narrowed, '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ breaking: 1, possiblyBreaking: 0, changes: [{ kind: 'input-narrowed', name: 'join', roles: ['user'] }] })
  })
})

describe.concurrent('rt: errors exit 2 with one clear line', () => {
  const two = file('two.ts', `${contract('z.object({})').replace('export const contract', 'export const a')}\nexport const b = a\n`)
  const notContract = file('not-contract.ts', 'export const contract = { roles: { user: { clientToServer: { x: { input: 1 } } } } }\n')
  const broken = file('broken.ts', 'export const contract = (\n')
  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['asyncapi', 'nope.ts'], /^rt: cannot find the contract file nope\.ts\n$/],
    ['a module that is not a contract', ['asyncapi', notContract], /^rt: not-contract\.ts exports no contract: export what defineContract returns/],
    ['a named export that is not there', ['asyncapi', v1, '--export', 'api'], /^rt: v1\.ts has no export "api" \(it exports: contract\)\n$/],
    ['a named export that is not a contract', ['asyncapi', notContract, '--export', 'contract'], /^rt: export "contract" of not-contract\.ts is not a contract/],
    ['several contracts and no --export', ['check-compat', two, v1], /^rt: two\.ts exports several contracts \(a, b\): pick one with --export <name>\n$/],
    ['a file that does not compile', ['asyncapi', broken], /^rt: broken\.ts could not be loaded: .*broken\.ts:2:0: ERROR: Unexpected end of file/],
    ['a missing second file', ['check-compat', v1], /^rt: check-compat takes the old and the new contract file \(got 1 file\)/],
    ['an unknown command', ['openapi', v1], /^rt: unknown command "openapi"/],
    ['an unknown option', ['asyncapi', v1, '--yaml'], /^rt: Unknown option '--yaml'/],
    ['a bad format', ['asyncapi', v1, '--format', 'xml'], /^rt: --format must be yaml or json, not "xml"\n$/],
    ['a bad server URL', ['asyncapi', v1, '--server', 'http://x'], /^rt: toAsyncApi: server URL "http:\/\/x" must start with ws:\/\/ or wss:\/\/\n$/],
  ]
  it.each(cases)('%s', { timeout: 30_000 }, async (_name, args, stderr) => {
    const r = await rt(args)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(stderr)
  })

  it('--help prints the usage and exits 0', { timeout: 30_000 }, async () => {
    const r = await rt(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('rt check-compat <old.ts> <new.ts>')
  })
})
