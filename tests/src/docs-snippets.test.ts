// Every ```ts block of docs/*.md, README.md and packages/*/README.md, and every file of
// examples/, type-checked against the packages' source in one TypeScript program, so the docs
// cannot drift from the code.
//
// Conventions for the Markdown:
// - Each block is its own module. Names it uses but does not declare come from PRELUDE below
//   (`srv`, `client`, `conn`, `contract`, the package exports, UI stand-ins such as `render`).
// - A block whose first line is `// <name>.ts` is also module `<name>.ts`: docs/contract.md's
//   `// contract.ts` is what every `import { contract } from './contract.js'` gets.
// - A fragment (say, options without their `createServer({ … })`) is checked where it belongs:
//   `<!-- snippet: createServer({ contract, transport, authenticate, handlers, … }) -->` on the
//   line before the block; the block replaces the `…`.
// - ```ts expect-error: the block must NOT compile (it shows an error on purpose);
//   ```ts expect-error TS2322: and fail with that error code only.
// - ```ts no-check: not checked at all. Keep these rare; say why next to the block.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, expect, it } from 'vitest'
import { connect, startServer, wsTransport } from './harness.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

// Stand-ins for what the docs leave to the reader, typed the way the docs use them.
const PRELUDE = `
import * as z from 'zod'
import WebSocket from 'ws'
import type { Server as HttpServer } from 'node:http'
import { CloseCode, RtError, defineContract, stableKey, type Frame } from '@rt/contract'
import { createMemoryBus, createMemoryHub, createServer, type AuthenticateInput, type Conn, type Handlers, type Transport, type TransportHandler, type TransportListenOptions } from '@rt/server'
import { createClient } from '@rt/client'
import { createWsTransport } from '@rt/transport-ws'
import { createUwsTransport } from '@rt/transport-uws'
import { createNatsBus } from '@rt/bus-nats'
import { contract } from './contract.js'

interface User { id: string; name: string; isBot: boolean }
interface Ctx { user: User }
declare function verifyToken(auth: unknown): Promise<User | null>
declare const transport: Transport
declare const authenticate: (input: AuthenticateInput<typeof contract>) => Promise<Ctx>
declare const handlers: Handlers<typeof contract, Ctx>
const srv = createServer({ contract, transport, authenticate, handlers })
const client = createClient(contract, { url: 'ws://127.0.0.1:8080', role: 'user' })
declare const conn: Conn<typeof contract, 'user', Ctx>
declare const ctx: Ctx
declare const url: string
declare const token: string
declare const nodes: string[]
declare const connId: string
declare const targetId: string
declare const from: string
declare const text: string
declare const httpServer: HttpServer
declare const socket: { send(frame: Frame): void }
declare const sessions: Map<string, { userId: string; since: number }>
declare function getToken(): string
declare function refreshToken(): Promise<string>
declare function render(m: { text: string }): void
declare function draw(price: number): void
declare function show(text: string): void
declare function notify(text: string): void
declare function notice(text: string): void
declare function banner(text: string): void
declare function log(text: string): void
declare function record(symbol: string, price: number, nodeId: string): void
declare function alertIfBelow(price: number, limit: number): void
declare function showLogin(error?: string): void
declare function showFull(data: unknown): void
declare function showUpgrade(): void
declare function showCount(members: number): void
declare function setBadge(state: string): void
declare function canSee(userId: string, symbol: string): Promise<boolean>
/** True when A and B are the same type (not merely assignable): for blocks that restate the code's types. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
`

interface Block {
  file: string // repo-relative
  line: number // 1-based line of the opening fence
  code: string
  mode: 'check' | 'expect-error' | 'no-check'
  /** expect-error: the only error codes allowed (any, when empty). */
  codes: number[]
  wrap?: { before: string; after: string; line: number }
  module?: string
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
  const out: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!)
    if (!open) continue
    let j = i + 1
    while (j < lines.length && !lines[j]!.startsWith('```')) j++
    if (open[1] === 'ts' || open[1] === 'typescript') {
      const code = lines.slice(i + 1, j).join('\n')
      const [flag = '', ...codes] = open[2]!.trim().split(/\s+/)
      const known = flag === '' || flag === 'no-check' || flag === 'expect-error'
      if (!known || (codes.length > 0 && (flag !== 'expect-error' || !codes.every((c) => /^TS\d+$/.test(c))))) {
        throw new Error(`${file}:${i + 1}: unknown flag "${open[2]}"`)
      }
      const block: Block = { file, line: i + 1, code, mode: (flag || 'check') as Block['mode'], codes: codes.map((c) => Number(c.slice(2))) }
      let k = i - 1
      while (k >= 0 && lines[k]!.trim() === '') k--
      const wrap = /^<!--\s*snippet:\s*(.*?)\s*-->$/.exec(lines[k]?.trim() ?? '')
      if (wrap) {
        const parts = wrap[1]!.split('…')
        if (parts.length !== 2) throw new Error(`${file}:${k + 1}: a snippet wrapper needs exactly one "…"`)
        block.wrap = { before: parts[0]!, after: parts[1]!, line: k + 1 }
      }
      const named = /^\/\/ ([\w-]+\.ts)\s*$/.exec(code.split('\n')[0] ?? '')
      if (named?.[1]) block.module = named[1]
      out.push(block)
    }
    i = j
  }
  return out
}

/** Top-level names a module declares itself (imports included): the prelude must not shadow them. */
function declaredNames(source: string): { values: Set<string>; types: Set<string> } {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
  const values = new Set<string>()
  const types = new Set<string>()
  const bind = (n: ts.BindingName) => {
    if (ts.isIdentifier(n)) values.add(n.text)
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name)
  }
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause
      const typeOnly = c.isTypeOnly
      if (c.name) (typeOnly ? types : values).add(c.name.text)
      const nb = c.namedBindings
      if (nb && ts.isNamespaceImport(nb)) values.add(nb.name.text)
      if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) (typeOnly || e.isTypeOnly ? types : values).add(e.name.text)
    } else if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) bind(d.name)
    } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) {
      values.add(s.name.text)
    } else if ((ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name) {
      types.add(s.name.text)
    }
  }
  return { values, types }
}

const md = [
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  'README.md',
  ...readdirSync(join(ROOT, 'packages'))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(join(ROOT, f))),
].sort()
const examples = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `examples/${f}`)
  .sort()
const blocks = md.flatMap(blocksOf)

// Generated files go where `@rt/*`, `ws` and `zod` resolve as they do for tests/src (tests/'s
// node_modules), in a folder git ignores by itself.
const GENERATED = join(ROOT, 'tests/.generated')
mkdirSync(GENERATED, { recursive: true })
writeFileSync(join(GENERATED, '.gitignore'), '*\n')
const dir = mkdtempSync(join(GENERATED, 'docs-snippets-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Generated {
  path: string
  /** Maps a 0-based line of the generated file to where it came from. */
  where(line: number): string
  block?: Block
}

function generate(): Generated[] {
  const prelude = declaredNames(PRELUDE)
  const exported = [...prelude.values, ...[...prelude.types].map((t) => `type ${t}`)]
  writeFileSync(join(dir, 'prelude.ts'), `${PRELUDE}\nexport { ${exported.join(', ')} }\n`)
  const out: Generated[] = []
  const seen = new Set<string>()
  for (const b of blocks) {
    if (b.mode === 'no-check') continue
    const body = b.wrap ? `${b.wrap.before}\n${b.code}\n${b.wrap.after}` : b.code
    const own = declaredNames(body)
    const values = [...prelude.values].filter((n) => !own.values.has(n) && !own.types.has(n))
    const types = [...prelude.types].filter((n) => !own.values.has(n) && !own.types.has(n))
    const head = `import { ${[...values, ...types.map((t) => `type ${t}`)].join(', ')} } from './prelude.js'`
    const name = b.module ?? `${b.file.replace(/[/.]/g, '_')}_L${b.line}.ts`
    if (seen.has(name)) throw new Error(`${b.file}:${b.line}: module ${name} is declared twice`)
    seen.add(name)
    // contract.ts is what the prelude imports: it must not import the prelude back.
    const text = `${b.module === 'contract.ts' ? '' : head}\n${body}\nexport {}\n`
    writeFileSync(join(dir, name), text)
    const offset = 1 + (b.wrap ? 1 : 0)
    const codeLines = b.code.split('\n').length
    out.push({
      path: join(dir, name),
      block: b,
      where: (l) => {
        const i = l - offset
        return i >= 0 && i < codeLines ? `${b.file}:${b.line + 1 + i}` : `${b.file}:${b.wrap?.line ?? b.line} (wrapper)`
      },
    })
  }
  for (const f of examples) {
    const path = join(dir, `${f.replace(/[/.]/g, '_')}.ts`)
    writeFileSync(path, readFileSync(join(ROOT, f)))
    out.push({ path, where: (l) => `${f}:${l + 1}` })
  }
  return out
}

it('finds the blocks: every docs page with code has some, and contract.ts exists', () => {
  expect(blocks.length).toBeGreaterThan(50)
  expect(blocks.filter((b) => b.module === 'contract.ts').map((b) => b.file)).toEqual(['docs/contract.md'])
  expect(examples).toContain('examples/quick-start/quick-start.ts')
  const optedOut = blocks.filter((b) => b.mode === 'no-check').map((b) => `${b.file}:${b.line}`)
  // Deliberately partial blocks only; each one says why beside it.
  expect(optedOut.length, optedOut.join('\n')).toBeLessThanOrEqual(3)
})

it('imports zod as a namespace everywhere a reader may copy from (see docs/contract.md: 99 KB bundles, not 459 KB)', () => {
  const named = /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*['"]zod['"]/
  const sources = [
    ...blocks.map((b) => ({ where: `${b.file}:${b.line}`, code: b.code })),
    ...[...examples, ...readdirSync(join(ROOT, 'apps/demo/src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `apps/demo/src/${f}`)].map((f) => ({
      where: f,
      code: readFileSync(join(ROOT, f), 'utf8'),
    })),
  ]
  expect(sources.filter((s) => /from ['"]zod['"]/.test(s.code)).length).toBeGreaterThanOrEqual(4)
  expect(sources.filter((s) => named.test(s.code)).map((s) => s.where)).toEqual([])
})

it('type-checks every ```ts block of the docs and READMEs, and examples/', { timeout: 120_000 }, () => {
  const files = generate()
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile)
  const { options, errors } = ts.parseJsonConfigFileContent({ ...base.config, compilerOptions: { ...base.config.compilerOptions, noEmit: true } }, ts.sys, dir)
  expect(errors).toEqual([])
  const program = ts.createProgram({ rootNames: [join(dir, 'prelude.ts'), ...files.map((f) => f.path)], options })
  const byPath = new Map(files.map((f) => [f.path, f]))
  const problems: string[] = []
  const failed = new Set<Generated>()
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]
    if (!d.file) {
      problems.push(`TS${d.code}: ${message}`)
      continue
    }
    const g = byPath.get(d.file.fileName)
    if (!g) {
      // The prelude, or a package's source: both are this test's or another test's business.
      if (d.file.fileName.startsWith(dir)) problems.push(`${basename(d.file.fileName)}: TS${d.code}: ${message}`)
      continue
    }
    failed.add(g)
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0)
    if (g.block?.mode === 'expect-error') {
      if (g.block.codes.length > 0 && !g.block.codes.includes(d.code)) problems.push(`${g.where(line)}: TS${d.code} (expected only ${g.block.codes.map((c) => `TS${c}`).join(', ')}): ${message}`)
      continue
    }
    problems.push(`${g.where(line)}: TS${d.code}: ${message}`)
  }
  for (const g of files) {
    if (g.block?.mode === 'expect-error' && !failed.has(g)) problems.push(`${g.block.file}:${g.block.line}: marked expect-error but compiles`)
  }
  expect(problems, `in ${relative(ROOT, dir)}`).toEqual([])
})

it('the READMEs\' shell commands need only Node and npm: pnpm comes through npx, at the pinned version', () => {
  const pm = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager: string }).packageManager
  const wrong: string[] = []
  let commands = 0
  for (const file of ['README.md', 'apps/demo/README.md', 'examples/quick-start/README.md']) {
    const text = readFileSync(join(ROOT, file), 'utf8')
    for (const block of text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
      for (const line of block[1]!.split('\n')) {
        const command = line.replace(/#.*$/, '').trim()
        if (!/\bpnpm\b/.test(command)) continue
        commands++
        if (!command.startsWith(`npx -y ${pm} `)) wrong.push(`${file}: ${command}`)
      }
    }
  }
  expect(commands).toBeGreaterThanOrEqual(6)
  expect(wrong).toEqual([])
})

it('connection ids are what docs/server.md and docs/presence.md say: <nodeId>.<incarnation><n>, new at every start', async () => {
  for (const page of ['docs/server.md', 'docs/presence.md']) {
    const text = readFileSync(join(ROOT, page), 'utf8')
    expect(text, page).toContain('`<nodeId>.<incarnation><n>`')
    expect(text, page).not.toContain('`<nodeId>.<n>`')
  }
  // Two starts with the same fixed nodeId (a restart): the ids carry a different incarnation.
  const ids: string[] = []
  for (let start = 0; start < 2; start++) {
    await using s = await startServer(wsTransport, { nodeId: 'fixed' })
    await using c = connect(s.url, 'user')
    await c.ready()
    ids.push(c.connId!)
    expect([...s.srv.connections.keys()]).toEqual([c.connId])
  }
  for (const id of ids) expect(id).toMatch(/^fixed\.[A-Za-z0-9_-]{4}[0-9a-z]+$/)
  expect(ids[0]).not.toBe(ids[1])
  expect(ids.map((id) => id.slice(-1))).toEqual(['1', '1']) // the counter starts again; the tag does not repeat
})
