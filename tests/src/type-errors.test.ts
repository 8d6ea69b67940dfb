import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// What a user sees when they get a name wrong (issue 12 §6): the compile error must list the valid
// names ('"message" | "dm"'), not print the contract (`EventName<Contract<{ … ZodObject …`).
// Each fixture is compiled by the workspace's tsc, once for all, in a plain strict project that
// resolves @rt/* to source like tsconfig.base.json. A line ending in `// error: A && B` must get a
// diagnostic containing A and B; every other line must compile.

const testsDir = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

const contract = `import * as z from 'zod'
import { defineContract } from '@rt/contract'
import type { Transport } from '@rt/server'

export declare const transport: Transport

export const contract = defineContract({
  shared: {
    serverToClient: {
      message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) },
      dm: { payload: z.object({ from: z.string(), text: z.string() }) },
      news: { payload: z.object({ headline: z.string() }), subscribe: true },
    },
    clientToServer: { ping: { input: z.object({}), output: z.object({ at: z.number() }) } },
  },
  roles: {
    user: {
      clientToServer: { joinRoom: { input: z.object({ room: z.string() }), output: z.object({ members: z.number() }) } },
      serverToClient: {
        alert: { payload: z.object({ text: z.string() }) },
        ticker: { payload: z.object({ price: z.number() }), subscribe: true, params: z.object({ symbol: z.string() }) },
      },
    },
    agent: {
      clientToServer: { reply: { input: z.object({ text: z.string() }), output: z.object({ ok: z.boolean() }) } },
      serverToClient: { task: { payload: z.object({ id: z.string() }) } },
    },
  },
})
`

const head = `import { createClient } from '@rt/client'
import { createServer } from '@rt/server'
import { contract, transport } from './contract.js'
`
const handlers = `{
    shared: { ping: () => ({ at: 1 }) },
    user: { joinRoom: () => ({ members: 1 }) },
    agent: { reply: () => ({ ok: true }) },
  }`

/** A 50-procedure, 20-event role: the messages must stay short and still name what is accepted. */
function bigContract(): string {
  const n = (i: number) => String(i).padStart(2, '0')
  const procs = Array.from({ length: 50 }, (_, i) => `      proc${n(i)}: { input: z.object({ a${i}: z.string() }), output: z.object({ v${i}: z.string() }) },`)
  const events = Array.from({ length: 20 }, (_, i) => `      event${n(i)}: { payload: z.object({ e${i}: z.string() }) },`)
  const impl = Array.from({ length: 49 }, (_, i) => `      proc${n(i)}: () => ({ v${i}: '' }),`)
  return `import * as z from 'zod'
import { defineContract } from '@rt/contract'
import { createClient } from '@rt/client'
import { createServer, type Transport } from '@rt/server'

declare const transport: Transport
const contract = defineContract({
  roles: {
    user: {
      clientToServer: {
${procs.join('\n')}
      },
      serverToClient: {
${events.join('\n')}
      },
    },
    agent: {},
  },
})
const user = createClient(contract, { url: 'ws://x', role: 'user' })
void user.call.proc12({ a12: '' })
void user.call.porc12({ a12: '' }) // error: Property 'porc12' does not exist && Did you mean 'proc12'?
user.on('event07', () => {})
user.on('evnt07', () => {}) // error: '"event00" | "event01" | "event02" && more
createClient(contract, { url: 'ws://x', role: 'admin' }) // error: '"user" | "agent"'
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: {
    user: { // error: Property 'proc49' is missing
${impl.join('\n')}
    },
  },
})
`
}

const fixtures: Record<string, string> = {
  'contract.ts': contract,

  // The Events & rooms page's snippets, as a user pastes them: no annotation anywhere.
  'seed.ts': `import * as z from 'zod'
import { defineContract } from '@rt/contract'
import { createClient } from '@rt/client'
import { createServer } from '@rt/server'
import { transport } from './contract.js'

declare function render(m: { room: string; text: string; from: string }): void
declare const targetId: string, from: string, text: string

const contract = defineContract({
  shared: {
    serverToClient: {
      message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) },
      dm: { payload: z.object({ from: z.string(), text: z.string() }) },
    },
  },
  roles: { user: { clientToServer: { notify: { input: z.object({}), output: z.object({ ok: z.boolean() }) } } } },
})
const srv = createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: {
    user: {
      notify: async (_input, _ctx, conn) => {
        conn.emit('message', { room: 'lobby', text: 'hi', from: 'system' })
        return { ok: true }
      },
    },
  },
  onConnection: (conn, ctx) => srv.room(\`user:\${ctx.user.id}\`).add(conn),
})
// later, from any node:
srv.room(\`user:\${targetId}\`).broadcast('dm', { from, text })
const client = createClient(contract, { url: 'ws://x', role: 'user' })
const off = client.on('message', (m) => render(m)) // m is typed
off() // stop listening
`,

  'events.ts': `${head}
const srv = createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: {
    shared: { ping: () => ({ at: 1 }) },
    user: {
      joinRoom: (_input, _ctx, conn) => {
        conn.emit('mesage', { room: 'r', text: 't', from: 'f' }) // error: '"mesage"' is not assignable to parameter of type '"message" | "dm" | "alert"'
        return { members: 1 }
      },
    },
    agent: { reply: () => ({ ok: true }) },
  },
})
srv.room('r').broadcast('mesage', { room: 'r', text: 't', from: 'f' }) // error: '"mesage"' is not assignable to parameter of type '"message" | "dm"'
void srv.toConn('c').emit('mesage', { room: 'r', text: 't', from: 'f' }) // error: '"message" | "dm"'
void srv.toUser('u').emit('mesage', { room: 'r', text: 't', from: 'f' }) // error: '"message" | "dm"'
void srv.forRole('agent').toUser('u').emit('tsk', { id: '1' }) // error: '"message" | "dm" | "task"'
const user = createClient(contract, { url: 'ws://x', role: 'user' })
user.on('mesage', () => {}) // error: '"mesage"' is not assignable to parameter of type '"message" | "dm" | "alert"'
`,

  'roles.ts': `${head}
const srv = createServer({ contract, transport, authenticate: () => ({ user: { id: 'u' } }), handlers: ${handlers} })
srv.forRole('usr') // error: '"usr"' is not assignable to parameter of type '"user" | "agent"'
createClient(contract, { url: 'ws://x', role: 'usr' }) // error: '"usr"' is not assignable to type '"user" | "agent"'
`,

  'procedures.ts': `${head}
const user = createClient(contract, { url: 'ws://x', role: 'user' })
void user.call.jion({ room: 'r' }) // error: Property 'jion' does not exist && readonly ping: && readonly joinRoom:
void user.call.joinRom({ room: 'r' }) // error: Did you mean 'joinRoom'?
void user.call.reply({ text: 't' }) // error: Property 'reply' does not exist
`,

  'topics.ts': `${head}
const srv = createServer({ contract, transport, authenticate: () => ({ user: { id: 'u' } }), handlers: ${handlers} })
srv.publish('nws', { headline: 'h' }) // error: '"nws"' is not assignable to parameter of type '"news"'
srv.subscribe('nws', () => {}) // error: '"news"'
srv.forRole('user').publish('tickr', { price: 1 }, { symbol: 'A' }) // error: '"ticker"'
const user = createClient(contract, { url: 'ws://x', role: 'user' })
user.subscribe('nws', () => {}) // error: '"nws"' is not assignable to parameter of type '"news" | "ticker"'
srv.forRole('user').subscribe('tickr', { symbol: 'A' }, () => {}) // error: '"ticker"'
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: ${handlers},
  topics: {
    user: { tickr: { authorize: () => true } }, // error: 'tickr' does not exist && Did you mean to write 'ticker'?
  },
})
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: ${handlers},
  topics: { admin: {} }, // error: 'admin' does not exist in type '{ user?:
})
`,

  'handlers.ts': `${head}
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: {
    shared: { ping: () => ({ at: 1 }) },
    user: {}, // error: Property 'joinRoom' is missing in type '{}'
    agent: { reply: () => ({ ok: true }) },
  },
})
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: {
    shared: { ping: () => ({ at: 1 }) },
    user: { joinRoom: () => ({ members: 1 }), jionRoom: () => ({ members: 1 }) }, // error: 'jionRoom' does not exist && Did you mean to write 'joinRoom'?
    agent: { reply: () => ({ ok: true }) },
  },
})
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: { // error: Property 'agent' is missing
    shared: { ping: () => ({ at: 1 }) },
    user: { joinRoom: () => ({ members: 1 }) },
  },
})
createServer({
  contract,
  transport,
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: { // error: Property 'shared' is missing
    user: { joinRoom: () => ({ members: 1 }) },
    agent: { reply: () => ({ ok: true }) },
  },
})
`,

  'big-contract.ts': bigContract(),

  // A library exporting values typed from the server: its .d.ts must be able to name those types.
  'declarations.ts': `${head}
const srv = createServer({ contract, transport, authenticate: () => ({ user: { id: 'u' } }), handlers: ${handlers} })
export const server = srv
export const connections = [...srv.connections.values()]
export const user = createClient(contract, { url: 'ws://x', role: 'user' })
`,
}

interface Diagnostic {
  line: number
  text: string
}

let dir = ''
const diagnostics = new Map<string, Diagnostic[]>()

beforeAll(async () => {
  // Inside tests/ so that @rt/*, zod and "type": "module" resolve as in a user's app.
  dir = mkdtempSync(join(testsDir, '.type-errors-'))
  for (const [name, source] of Object.entries(fixtures)) writeFileSync(join(dir, name), source)
  const compilerOptions = {
    strict: true,
    declaration: true,
    emitDeclarationOnly: true,
    outDir: 'out',
    target: 'ES2022',
    lib: ['ES2022', 'DOM'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    customConditions: ['@rt/source'],
    skipLibCheck: true,
    types: ['node'],
    pretty: false,
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(fixtures) }))
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { maxBuffer: 16 << 20 }, (_error, stdout) => resolve(stdout))
  })
  // `file(line,col): error TSnnnn: message`, then indented continuation lines.
  let last: Diagnostic | undefined
  for (const raw of output.split('\n')) {
    const m = /^(.+?)\((\d+),\d+\): error (TS\d+: .*)$/.exec(raw)
    if (m) {
      const file = m[1]!.replace(/\\/g, '/').split('/').pop()!
      last = { line: Number(m[2]), text: m[3]! }
      diagnostics.set(file, [...(diagnostics.get(file) ?? []), last])
    } else if (last && raw.startsWith(' ')) last.text += `\n${raw}`
    else if (raw.trim() !== '') diagnostics.set('(tsc)', [...(diagnostics.get('(tsc)') ?? []), { line: 0, text: raw }])
  }
}, 180_000)

// RT_KEEP_TYPE_ERRORS=1 keeps the fixtures, to run tsc on them by hand.
afterAll(() => {
  if (dir && !process.env.RT_KEEP_TYPE_ERRORS) rmSync(dir, { recursive: true, force: true })
})

/** `line → expected substrings` from the `// error:` markers of a fixture. */
function expectations(source: string): Map<number, string[]> {
  const out = new Map<number, string[]>()
  source.split('\n').forEach((text, i) => {
    const at = text.indexOf('// error: ')
    if (at >= 0) out.set(i + 1, text.slice(at + '// error: '.length).split(' && '))
  })
  return out
}

describe('compile errors name what is accepted, not the contract', () => {
  it('only the fixtures have errors (the packages compile in a plain strict project)', () => {
    const files = [...diagnostics.keys()].filter((f) => !(f in fixtures))
    expect(files.map((f) => `${f}: ${diagnostics.get(f)![0]!.text}`)).toEqual([])
  })

  // `Conn` resolves to `RoleConn` (so messages print payloads, not the contract): the package
  // must export it, or a .d.ts that names a connection type fails with TS2742.
  it('declarations.ts: a library can emit declarations for values typed from the server', () => {
    expect(diagnostics.get('declarations.ts')?.map((d) => d.text) ?? []).toEqual([])
  })

  it.each(Object.keys(fixtures).filter((f) => f !== 'declarations.ts'))('%s', (file) => {
    const got = diagnostics.get(file) ?? []
    const want = expectations(fixtures[file]!)
    expect(got.map((d) => d.line).sort((a, b) => a - b), got.map((d) => `${d.line}: ${d.text}`).join('\n')).toEqual(
      [...want.keys()].sort((a, b) => a - b),
    )
    for (const d of got) {
      for (const part of want.get(d.line)!) expect(d.text).toContain(part)
      expect(d.text).not.toMatch(/ZodObject|ZodString|Contract<|\$strip/)
      expect(d.text.length).toBeLessThan(2_000)
    }
  })
})
