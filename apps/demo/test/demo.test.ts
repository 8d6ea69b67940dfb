import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient } from '@rt/client'
import { contract } from '../src/contract.js'

it('serves clients: a user chats and the agent bot answers a mention', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@rt/source', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer]
    const port = /localhost:(\d+)/.exec(line.toString())![1]
    await using ann = createClient(contract, { url: `ws://127.0.0.1:${port}`, role: 'user', auth: { name: 'ann' }, WebSocket: WebSocket as never })
    const seen: string[] = []
    ann.on('message', (m) => seen.push(`${m.from}: ${m.text}`))
    await ann.ready()
    // The bot connects right after the server starts: wait until it is there to hear us.
    for (let i = 0; i < 100 && (await ann.call.say({ text: 'hello' })).delivered < 2; i++) await new Promise((r) => setTimeout(r, 50))
    await ann.call.say({ text: 'hi @bot' })
    for (let i = 0; i < 100 && !seen.some((s) => s.startsWith('bot:')); i++) await new Promise((r) => setTimeout(r, 50))
    expect(seen).toContain('ann: hi @bot')
    expect(seen).toContain('bot: @ann you said "hi"')
    await expect(createClient(contract, { url: `ws://127.0.0.1:${port}`, role: 'user', auth: { name: 'bad name!' }, WebSocket: WebSocket as never }).ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
})
