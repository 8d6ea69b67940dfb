// @opentelemetry/api is an optional peer: @rt/server and @rt/client must load and work where it
// cannot be resolved at all. The packages' source is copied into an app outside the workspace,
// with only ws and zod beside it, and run there in a child process.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const app = mkdtempSync(join(tmpdir(), 'rt-no-otel-'))
afterAll(() => rmSync(app, { recursive: true, force: true }))

const APP = `
// Checked here, in the app's own process: the package is not resolvable.
const otel = await import('@opentelemetry/api').then(() => 'present', (e) => e.code)
import WebSocket from 'ws'
import { z } from 'zod'
import { defineContract } from '@rt/contract'
import { createServer } from '@rt/server'
import { createClient } from '@rt/client'
import { createWsTransport } from '@rt/transport-ws'

const contract = defineContract({
  shared: {
    serverToClient: { note: { payload: z.object({ t: z.string() }) }, news: { payload: z.object({ t: z.string() }), subscribe: true } },
    clientToServer: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.object({ sum: z.number() }) } },
  },
  roles: { user: {} },
})
const srv = createServer({
  contract,
  transport: createWsTransport({ port: 0, host: '127.0.0.1' }),
  authenticate: () => ({ user: { id: 'u' } }),
  handlers: { shared: { add: ({ a, b }) => ({ sum: a + b }) } },
  onConnection: (conn) => srv.room('r').add(conn),
})
const { port } = await srv.listen()
const client = createClient(contract, { url: 'ws://127.0.0.1:' + port, role: 'user', WebSocket })
const got = []
client.on('note', (n) => got.push(n.t))
await client.subscribe('news', (n) => got.push(n.t)).ready
const { sum } = await client.call.add({ a: 2, b: 3 })
srv.room('r').broadcast('note', { t: 'room' })
await srv.publish('news', { t: 'topic' })
while (got.length < 2) await new Promise((r) => setTimeout(r, 10))
const { calls, delivered } = srv.stats().totals
await client.close()
await srv.close()
process.stdout.write(JSON.stringify({ otel, sum, got, calls, delivered }))
`

it('loads and works without @opentelemetry/api (a real resolution failure, not a stub)', async () => {
  const mods = join(app, 'node_modules')
  for (const pkg of ['contract', 'rooms', 'server', 'client', 'transport-ws']) {
    const to = join(mods, '@rt', pkg)
    mkdirSync(to, { recursive: true })
    cpSync(join(repo, 'packages', pkg, 'package.json'), join(to, 'package.json'))
    cpSync(join(repo, 'packages', pkg, 'src'), join(to, 'src'), { recursive: true })
  }
  const fromTests = createRequire(import.meta.url)
  for (const dep of ['ws', 'zod']) symlinkSync(realpathSync(join(fromTests.resolve(`${dep}/package.json`), '..')), join(mods, dep))
  writeFileSync(join(app, 'package.json'), '{ "type": "module" }')
  writeFileSync(join(app, 'app.ts'), APP)

  const tsx = join(repo, 'tests/node_modules/.bin/tsx')
  const { stdout } = await promisify(execFile)(tsx, ['--conditions=@rt/source', 'app.ts'], { cwd: app, timeout: 30_000 })
  expect(JSON.parse(stdout)).toEqual({ otel: 'ERR_MODULE_NOT_FOUND', sum: 5, got: ['room', 'topic'], calls: 1, delivered: 2 })
})
