// The demo on one node (`pnpm start`): the page is served, a Node client chats, the agent answers.
import { expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type WebSocketConstructor } from '@rt/client'
import { contract } from '../src/contract.js'
import { launchDemo } from './launch.js'

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 10_000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

it('runs one node and the agent: page served, chat, DM, presence, bot answers', { timeout: 60_000 }, async () => {
  await using demo = await launchDemo([])
  expect(demo.output()).toContain('one node, in-memory bus, transport ws')
  const [node] = demo.nodes
  expect(node).toBeDefined()

  // The page and its bundle, with the node list injected.
  const page = await (await fetch(node!.url)).text()
  expect(page).toContain(`window.RT_DEMO = {"nodes":[{"port":${node!.port},"path":"/rt"}],"self":0,"transport":"ws"}`)
  const bundle = await fetch(`${node!.url}/app.js`)
  expect(bundle.headers.get('content-type')).toContain('javascript')
  expect((await bundle.text()).length).toBeGreaterThan(10_000)

  const WS = WebSocket as unknown as WebSocketConstructor
  await using ann = createClient(contract, { url: `ws://127.0.0.1:${node!.port}/rt`, role: 'user', auth: { name: 'ann' }, WebSocket: WS })
  const seen: string[] = []
  const dms: string[] = []
  // Room messages are a history topic: the first answer says there was nothing to recover.
  const general = ann.subscribe('messages', { room: 'general' }, (m, meta) => seen.push(`${m.room} ${m.from}: ${m.text} #${meta.offset}`))
  expect(await general.ready).toMatchObject({ recovered: false, wasRecovering: false, offset: 0 })
  ann.on('dm', (d) => dms.push(`${d.from}->${d.to}: ${d.text}`))
  const presence: string[] = []
  await ann.subscribe('presence', (p) => presence.push(`${p.user} ${p.online ? 'on' : 'off'}`)).ready

  expect(await ann.call.join({ room: 'general' })).toEqual({ room: 'general', members: 1 })
  const { users } = await ann.call.who({})
  expect(users).toEqual([
    { id: 'ann', role: 'user', nodes: ['n1'] },
    { id: 'bot', role: 'agent', nodes: ['n1'] },
  ])

  await ann.call.say({ room: 'general', text: 'hi @bot' })
  await until(() => seen.some((s) => s.startsWith('general bot:')), 'the bot to answer in #general')
  expect(seen[0]).toBe('general ann: hi @bot #1')
  expect(seen[1]).toMatch(/^general bot: Hi @ann!.* #2$/)

  await ann.call.dm({ to: 'bot', text: 'stats' })
  await until(() => dms.length >= 2, 'the bot to answer the DM')
  expect(dms[0]).toBe('ann->bot: stats')
  expect(dms[1]).toMatch(/^bot->ann: 2 online over 2 connections; 1 node: n1 \(2\)\.$/)

  // A second person: presence reaches ann through the topic; a DM to someone offline is refused.
  await expect(ann.call.dm({ to: 'bob', text: 'hello?' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'bob is not online' })
  const bob = createClient(contract, { url: `ws://127.0.0.1:${node!.port}/rt`, role: 'user', auth: { name: 'bob' }, WebSocket: WS })
  await bob.ready()
  await until(() => presence.includes('bob on'), 'bob to come online')
  await ann.call.dm({ to: 'bob', text: 'hello bob' })
  await until(() => dms.includes('ann->bob: hello bob'), 'the DM echo')
  await bob.close()
  await until(() => presence.includes('bob off'), 'bob to go offline')

  // Names are the auth: a bad one, or the agent's, is refused.
  for (const name of ['bad name!', 'bot']) {
    await expect(createClient(contract, { url: `ws://127.0.0.1:${node!.port}/rt`, role: 'user', auth: { name }, WebSocket: WS }).ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  }
  await expect(createClient(contract, { url: `ws://127.0.0.1:${node!.port}/rt`, role: 'agent', auth: { name: 'bot', token: 'guess' }, WebSocket: WS }).ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })

  // Ctrl-C: everything stops cleanly.
  expect(await demo.stop()).toBe(0)
})

/** The sum of every sample of one metric in a Prometheus text exposition (any labels). */
function metric(text: string, name: string): number {
  let sum = 0
  let seen = false
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line)
    if (m && m[1] === name) {
      sum += Number(m[2])
      seen = true
    }
  }
  if (!seen) throw new Error(`no ${name} in /metrics:\n${text.slice(0, 2_000)}`)
  return sum
}

it('serves /metrics from the OpenTelemetry SDK, moving with traffic, and the inspector behind its password', { timeout: 60_000 }, async () => {
  await using demo = await launchDemo([], { INSPECT_PASSWORD: 'demo-secret' })
  expect(demo.output()).toContain('(user admin, password demo-secret)')
  const [node] = demo.nodes
  const scrape = async () => {
    const res = await fetch(`${node!.url}/metrics`)
    expect(res.status).toBe(200)
    return res.text()
  }
  const WS = WebSocket as unknown as WebSocketConstructor
  await using ann = createClient(contract, { url: `ws://127.0.0.1:${node!.port}/rt`, role: 'user', auth: { name: 'ann' }, WebSocket: WS })
  await ann.call.join({ room: 'general' })
  const before = await scrape()
  for (let i = 0; i < 5; i++) await ann.call.say({ room: 'general', text: `tick ${i}` })
  await until(async () => metric(await scrape(), 'rpc_server_call_duration_count') >= metric(before, 'rpc_server_call_duration_count') + 5, 'five more calls in /metrics')
  const after = await scrape()
  expect(metric(after, 'rt_server_frames_received_total')).toBeGreaterThan(metric(before, 'rt_server_frames_received_total'))
  expect(metric(after, 'rt_server_frames_sent_total')).toBeGreaterThan(metric(before, 'rt_server_frames_sent_total'))
  expect(metric(after, 'rt_server_connections_open')).toBe(2) // ann and the agent
  // No room name or user id in any label.
  expect(after).not.toMatch(/general|"ann"|ann"/)

  expect((await fetch(`${node!.url}/inspect`)).status).toBe(401)
  const auth = { authorization: `Basic ${Buffer.from('admin:demo-secret').toString('base64')}` }
  const page = await fetch(`${node!.url}/inspect`, { headers: auth })
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('<html')
  const overview = (await (await fetch(`${node!.url}/inspect/api/overview`, { headers: auth })).json()) as { nodes: { id: string }[] }
  expect(overview.nodes.map((n) => n.id)).toEqual(['n1'])
  expect(await demo.stop()).toBe(0)
})

