import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const root = join(repo, 'packages/')
const packages = readdirSync(root).filter((d) => existsSync(`${root}${d}/package.json`))

interface Manifest {
  name: string
  version: string
  exports: Record<string, string | Record<string, string>>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}
const readJson = <T = Manifest>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T

// Runs on the built output (the test command builds first): what a user installs.
describe.each(packages)('package %s', (dir) => {
  const pkgDir = `${root}${dir}`
  const pkg = readJson(`${pkgDir}/package.json`)

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

// What a user gets from the registry: every package packed with pnpm from a copy of the repo
// that has never been built (so packing itself must build, dependencies first), installed with
// npm into an app outside the workspace, then imported, type-checked and run there.
describe('packed from a clean state, installed with npm outside the workspace', () => {
  const exec = promisify(execFile)
  const rootPkg = readJson<{ packageManager: string; devDependencies: Record<string, string> }>(join(repo, 'package.json'))
  const testsPkg = readJson(join(repo, 'tests/package.json'))
  const manifests = new Map(packages.map((d) => [d, readJson<Manifest>(`${root}${d}/package.json`)]))
  const names = new Set([...manifests.values()].map((m) => m.name))
  // One public entry per package, asserted at runtime; a new package must be added here.
  const entry: Record<string, string> = {
    '@rt/contract': 'defineContract',
    '@rt/server': 'createServer',
    '@rt/client': 'createClient',
    '@rt/rooms': 'RoomRegistry',
    '@rt/transport-ws': 'createWsTransport',
    '@rt/transport-uws': 'createUwsTransport',
    '@rt/bus-nats': 'createNatsBus',
    '@rt/asyncapi': 'toAsyncApi',
    '@rt/inspector': 'createInspector',
    '@rt/react': 'createRtHooks',
    '@rt/codec-msgpack': 'checkMessagePack',
  }

  let tmp = ''
  let copy = ''
  let app = ''
  const tarballs = new Map<string, string>()
  const builtBeforeFirstPack: Record<string, boolean> = {}
  const builtByFirstPack: Record<string, boolean> = {}
  let firstPacked = ''

  // Children must not inherit the outer `pnpm test` run's lifecycle and pnpm-only settings (e.g.
  // npm_config_omit_lockfile_registry_resolved); where to fetch from and how is kept.
  const keep = /^npm_config_(registry|cache|cafile|userconfig|proxy|https_proxy|noproxy|strict_ssl)$/
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => keep.test(k) || !/^(npm_|pnpm_|PNPM_SCRIPT_SRC_DIR$|INIT_CWD$)/.test(k)))
  async function run(cmd: string, args: string[], cwd: string): Promise<string> {
    try {
      return (await exec(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string }
      throw new Error(`\`${cmd} ${args.join(' ')}\` failed in ${cwd}:\n${err.stdout ?? ''}\n${err.stderr ?? e}`)
    }
  }
  // The pnpm running this test if there is one, else the pinned version through npx (as the README does).
  const execpath = process.env.npm_execpath
  const pnpm = (args: string[], cwd: string) =>
    execpath && basename(execpath).startsWith('pnpm')
      ? run(process.execPath, [execpath, ...args], cwd)
      : run('npx', ['-y', rootPkg.packageManager.replace(/\+.*$/, ''), ...args], cwd)

  const workspaceDeps = (m: Manifest) => Object.keys({ ...m.dependencies, ...m.peerDependencies }).filter((n) => names.has(n))
  const depth = (d: string): number => {
    const deps = workspaceDeps(manifests.get(d)!).map((n) => [...manifests].find(([, m]) => m.name === n)![0])
    return deps.length === 0 ? 0 : 1 + Math.max(...deps.map(depth))
  }
  const list = (tgz: string) => execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''))
  const packedManifest = (tgz: string) => JSON.parse(execFileSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' })) as Manifest

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'rt-pack-'))
    // A fresh clone: the files git knows (tracked, or new and not ignored) as they are now, no dist.
    copy = join(tmp, 'repo')
    const files = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repo)).split('\0').filter(Boolean)
    for (const f of files) {
      const from = join(repo, f)
      if (!existsSync(from) || !statSync(from).isFile()) continue
      mkdirSync(dirname(join(copy, f)), { recursive: true })
      copyFileSync(from, join(copy, f))
    }
    // The installed dependencies, reused rather than installed again: the packages' own links to
    // each other are relative, so they point into the copy.
    symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'), 'dir')
    for (const d of packages) {
      if (existsSync(`${root}${d}/node_modules`)) cpSync(`${root}${d}/node_modules`, join(copy, 'packages', d, 'node_modules'), { recursive: true, verbatimSymlinks: true })
    }

    // Dependents first: packing the deepest package must build its workspace dependencies too.
    const order = [...packages].sort((a, b) => depth(b) - depth(a))
    firstPacked = order[0]!
    for (const d of packages) builtBeforeFirstPack[d] = existsSync(join(copy, 'packages', d, 'dist'))
    const out = join(tmp, 'tarballs')
    for (const d of order) {
      await pnpm(['pack', '--pack-destination', out], join(copy, 'packages', d))
      if (d === firstPacked) for (const p of packages) builtByFirstPack[p] = existsSync(join(copy, 'packages', p, 'dist', 'index.js'))
    }
    for (const f of readdirSync(out)) tarballs.set(packedManifest(join(out, f)).name, join(out, f))

    app = join(tmp, 'app')
    mkdirSync(join(app, 'src'), { recursive: true })
    const third = { ...rootPkg.devDependencies, ...testsPkg.dependencies }
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'rt-pack-app',
        version: '0.0.0',
        private: true,
        type: 'module',
        dependencies: {
          ...Object.fromEntries([...tarballs].map(([n, f]) => [n, `file:${f}`])),
          zod: third.zod,
          ws: third.ws,
          // The peer of @rt/transport-uws, under the name it imports (not on npm itself).
          'uWebSockets.js': manifests.get('transport-uws')!.devDependencies!['uWebSockets.js'],
          '@types/node': third['@types/node'],
          '@types/ws': third['@types/ws'],
          // The peer of @rt/react.
          react: third.react,
          '@types/react': third['@types/react'],
        },
      }),
    )
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: appCompilerOptions, include: ['src'] }))
    writeFileSync(join(app, 'src/main.ts'), appSource)
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app)
  }, 300_000)

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  it('starts from a copy with no dist, and packing a dependent builds its dependencies in order', () => {
    expect(Object.values(builtBeforeFirstPack).every((b) => !b), JSON.stringify(builtBeforeFirstPack)).toBe(true)
    expect(depth(firstPacked)).toBeGreaterThanOrEqual(2)
    const needed = new Set<string>([firstPacked])
    for (const d of needed) for (const n of workspaceDeps(manifests.get(d)!)) needed.add([...manifests].find(([, m]) => m.name === n)![0])
    expect(Object.entries(builtByFirstPack).filter(([d, built]) => needed.has(d) && !built)).toEqual([])
  })

  it.each(packages)('the tarball of %s has its built entry points and real dependency versions', (d) => {
    const m = manifests.get(d)!
    const tgz = tarballs.get(m.name)
    expect(tgz, `${m.name} was not packed`).toBeDefined()
    const files = list(tgz!)
    const targets = Object.values(m.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.entries(t).filter(([c]) => c !== '@rt/source').map(([, f]) => f)))
    for (const t of [...targets, './dist/index.js', './dist/index.d.ts']) expect(files, t).toContain(t.replace(/^\.\//, ''))
    expect(files.filter((f) => /\.test(-d)?\.ts$/.test(f))).toEqual([])

    const packed = packedManifest(tgz!)
    expect(JSON.stringify(packed)).not.toContain('workspace:')
    for (const [field, deps] of Object.entries({ dependencies: packed.dependencies, peerDependencies: packed.peerDependencies })) {
      for (const [n, range] of Object.entries(deps ?? {})) {
        if (!names.has(n)) continue
        const version = [...manifests.values()].find((x) => x.name === n)!.version
        // `workspace:*` / `workspace:^` become the version or ^version; an explicit range is kept as written.
        const source = (m[field as 'dependencies' | 'peerDependencies'] ?? {})[n]!.replace(/^workspace:/, '')
        expect(source === '*' || source === '^' ? [version, `^${version}`] : [source], `${field} ${n}`).toContain(range)
      }
    }
  })

  it('npm resolves every @rt dependency to the packed tarballs, not the registry', () => {
    const lock = readJson<{ packages: Record<string, { resolved?: string }> }>(join(app, 'package-lock.json'))
    const rt = Object.entries(lock.packages).filter(([p]) => /(^|\/)node_modules\/@rt\//.test(p))
    expect(rt.map(([p]) => p).sort()).toEqual([...names].map((n) => `node_modules/${n}`).sort())
    for (const [p, { resolved }] of rt) expect(resolved, p).toMatch(/^file:/)
  })

  it('imports every package in plain Node (ESM)', { timeout: 60_000 }, async () => {
    expect(Object.keys(entry).sort()).toEqual([...names].sort())
    const script = `for (const [n, e] of Object.entries(${JSON.stringify({ ...entry, '@rt/contract/internal': '' })})) {
      const m = await import(n)
      if (e && typeof m[e] !== 'function') throw new Error(n + ' has no ' + e)
      console.log(n, Object.keys(m).length)
    }`
    const out = await run(process.execPath, ['--input-type=module', '-e', script], app)
    expect(out.trim().split('\n')).toHaveLength(Object.keys(entry).length + 1)
  })

  it('runs the `rt` command of @rt/asyncapi through npx, on a .ts contract, in plain Node', { timeout: 60_000 }, async () => {
    // Outside src/: the app's tsconfig does not compile it; the command loads it with tsx.
    mkdirSync(join(app, 'contracts'), { recursive: true })
    const file = (name: string, max: number) =>
      writeFileSync(join(app, 'contracts', name), `import * as z from 'zod'\nimport { defineContract } from '@rt/contract'\nexport const contract = defineContract({ roles: { user: { clientToServer: { add: { input: z.object({ a: z.number().max(${max}) }), output: z.object({ sum: z.number() }) } } } } })\n`)
    file('v1.ts', 10)
    file('v2.ts', 5)
    const doc = JSON.parse(await run('npx', ['rt', 'asyncapi', 'contracts/v1.ts', '--format', 'json'], app)) as { asyncapi: string; operations: Record<string, { action: string }> }
    expect(doc.asyncapi).toBe('3.0.0')
    expect(doc.operations['user.add']?.action).toBe('send')
    await expect(run('npx', ['rt', 'check-compat', 'contracts/v1.ts', 'contracts/v2.ts'], app)).rejects.toThrow(/input narrowed/)
  })

  it('type-checks a strict app and the shipped declarations with the workspace TypeScript, and runs it over ws and uWS', { timeout: 180_000 }, async () => {
    writeFileSync(join(app, 'check.cjs'), checker(join(repo, 'node_modules/typescript')))
    const checked = await run(process.execPath, ['check.cjs'], app)
    expect(Number(checked.trim()), 'declaration files of @rt packages checked').toBeGreaterThanOrEqual(packages.length * 2)
    const out = await run(process.execPath, [join(app, 'dist/main.js')], app)
    expect(out.trim().split('\n')).toEqual(['ws ann 2', 'uws ann 2'])
  })
})

// \`tsc -p\` on the app, plus the semantic check of every .d.ts we ship: with skipLibCheck, as most
// apps have it, a broken declaration (say, an import of an undeclared dependency) would silently
// turn into \`any\`; without it, tsc would also report errors in third-party declarations we do not own.
const checker = (typescript: string) => `const ts = require(${JSON.stringify(typescript)})
const cfg = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\\n')) } })
const program = ts.createProgram({ rootNames: cfg.fileNames, options: { ...cfg.options, skipLibCheck: false } })
const ours = program.getSourceFiles().filter((f) => /[\\\\/]node_modules[\\\\/]@rt[\\\\/]/.test(f.fileName))
const mine = program.getSourceFiles().filter((f) => !f.fileName.includes('/node_modules/') && !f.isDeclarationFile)
const diagnostics = [...cfg.errors, ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]
for (const f of [...mine, ...ours]) diagnostics.push(...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f))
// Per file: a whole-program emit would type-check every declaration file, zod's and Node's too.
for (const f of mine) diagnostics.push(...program.emit(f).diagnostics)
if (diagnostics.length > 0) {
  process.stderr.write(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\\n' }))
  process.exit(1)
}
console.log(ours.length)
`

const appCompilerOptions = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  types: ['node'],
  rootDir: 'src',
  outDir: 'dist',
}

// A user's file: the README quick start's shape, with each adapter; the @ts-expect-error lines fail
// the build if the packed types degrade to `any`.
const appSource = `import * as z from 'zod'
import WebSocket from 'ws'
import { defineContract, RtError, type AnyContract } from '@rt/contract'
import { createMemoryBus, createServer, type Transport } from '@rt/server'
import { createClient } from '@rt/client'
import { RoomRegistry } from '@rt/rooms'
import { createWsTransport } from '@rt/transport-ws'
import { createUwsTransport } from '@rt/transport-uws'
import { createNatsBus, type NatsBus } from '@rt/bus-nats'

const contract = defineContract({
  shared: { serverToClient: { message: { payload: z.object({ text: z.string() }) } } },
  roles: { user: { clientToServer: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.object({ sum: z.number(), by: z.string() }) } } } },
})

async function roundTrip(name: string, transport: Transport): Promise<void> {
  const srv = createServer({
    contract,
    transport,
    bus: createMemoryBus(),
    authenticate: ({ auth }) => ({ user: { id: String((auth as { name: string }).name) } }),
    handlers: { user: { add: ({ a, b }, ctx) => ({ sum: a + b, by: ctx.user.id }) } },
  })
  const { port } = await srv.listen()
  const client = createClient(contract, { url: \`ws://127.0.0.1:\${port}\`, role: 'user', auth: { name: 'ann' }, WebSocket })
  client.on('message', (m) => void m.text.toUpperCase())
  const typeErrors = () => {
    // @ts-expect-error not an event of the contract
    client.on('mesage', () => {})
    // @ts-expect-error wrong input type
    void client.call.add({ a: '1', b: 1 })
  }
  void typeErrors
  const { sum, by }: { sum: number; by: string } = await client.call.add({ a: 1, b: 1 })
  console.log(name, by, sum)
  client.close()
  await srv.close()
}

// Type-level only: no NATS server here.
export function natsBus(): NatsBus {
  return createNatsBus({ servers: 'nats://127.0.0.1:4222', prefix: 'app' })
}
export const check: [AnyContract, typeof RtError, typeof RoomRegistry] = [contract, RtError, RoomRegistry]

await roundTrip('ws', createWsTransport({ port: 0, host: '127.0.0.1' }))
await roundTrip('uws', createUwsTransport({ port: 0, host: '127.0.0.1' }))
`
