// The demo's cluster (`pnpm cluster`: three nodes on NATS + the agent) driven through its web page
// in headless Chromium: two people on two different nodes chat, DM, see each other online, get an
// answer from the agent; then one node stops and the page moves to another node by itself.
// A page that goes offline gets the room messages it missed (a topic with history) once back,
// and a page opened later shows the room's last messages from that history.
// A one-node demo is also driven at 720 px (two windows side by side) and at phone width.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { freePort, launchDemo, type Demo } from './launch.js'
import { startNatsServer, type NatsServer } from '@rt/tests/nats'

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'

let browser: Browser

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  // Never skipped: without Chromium this fails (scripts/ensure-system-deps.sh installs it).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
}, 30_000)

afterAll(async () => {
  await browser?.close()
})

async function person(name: string, url: string, loginShot?: string, viewport = { width: 1280, height: 760 }): Promise<Page> {
  const context = await browser.newContext({ viewport })
  // Keeps the page's WebSockets at hand: Chromium's offline mode stops new connections only, so
  // `goOffline` also drops the open one, as a lost network does.
  await context.addInitScript(() => {
    const sockets: WebSocket[] = []
    const Native = window.WebSocket
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        sockets.push(this)
      }
    }
    ;(window as unknown as { rtSockets: WebSocket[] }).rtSockets = sockets
  })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(url)
  await page.fill('#name', name)
  if (loginShot) await shot(page, loginShot)
  await page.click('#login-form button[type=submit]')
  await page.waitForSelector('#conn[data-state=open]')
  expect(errors).toEqual([])
  return page
}

const say = async (page: Page, text: string) => {
  await page.fill('#text', text)
  await page.press('#text', 'Enter')
}
/** The network goes away under the page: no new connection succeeds, and the open socket drops. */
async function goOffline(page: Page): Promise<void> {
  await page.context().setOffline(true)
  await page.evaluate(() => {
    for (const s of (window as unknown as { rtSockets: WebSocket[] }).rtSockets) s.close(4000, 'network lost (test)')
  })
}
const message = (page: Page, from: string, text: string) => page.locator('#messages .msg', { hasText: text }).filter({ has: page.locator('strong', { hasText: from }) })
// expect.poll waits 1 s by default: too short on a loaded 2-core machine.
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 })
const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png` })

it('two people on two nodes chat, DM, see each other and the agent; a node stops and the page fails over', { timeout: 60_000 }, async () => {
  // JetStream: the rooms' message history is kept there (the `messages` topic).
  await using nats: NatsServer = await startNatsServer({ jetstream: true })
  await using demo: Demo = await launchDemo(['--cluster'], { NATS_URL: nats.url, INSPECT_PASSWORD: 'browser-test' })
  expect(demo.output()).toContain('cluster of 3 nodes on NATS')
  expect(demo.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3'])
  const [n1, n2] = demo.nodes as [(typeof demo.nodes)[0], (typeof demo.nodes)[0]]

  const ada = await person('ada', n1.url, 'login')
  const grace = await person('grace', n2.url)
  await poll(() => ada.textContent('#conn-text')).toBe('connected · node n1')
  await poll(() => grace.textContent('#conn-text')).toBe('connected · node n2')

  // Presence across nodes: each sees the other (and the agent) in the online list, with their node.
  await ada.locator('#online [data-user=grace]', { hasText: 'n2' }).waitFor()
  await ada.locator('#online [data-user=bot]', { hasText: 'agent' }).waitFor()
  await grace.locator('#online [data-user=ada]', { hasText: 'n1' }).waitFor()

  // A room: both are in #general; a message from one node reaches the other.
  await poll(() => ada.textContent('#subtitle')).toBe('2 members')
  await say(ada, 'Hello from node 1')
  await message(grace, 'ada', 'Hello from node 1').waitFor()
  // The activity topic (params { room }): grace typing shows on ada's page.
  await grace.fill('#text', 'typing something')
  await poll(() => ada.textContent('#activity')).toBe('grace is typing…')
  await grace.fill('#text', '')
  await say(grace, 'Hi ada! @bot stats')
  await message(ada, 'grace', 'Hi ada! @bot stats').waitFor()

  // The agent (its own process, role `agent`) gets a `task` and answers in the room.
  const answer = message(ada, 'bot', '3 nodes')
  await answer.waitFor()
  expect(await answer.textContent()).toMatch(/3 online over 3 connections; 3 nodes: n1 \(\d\), n2 \(\d\), n3 \(\d\)\./)
  await message(grace, 'bot', '3 nodes').waitFor()

  // The inspector, served by any node, shows the whole cluster: three nodes, ada, grace and the agent.
  const ops = await browser.newContext({ httpCredentials: { username: 'admin', password: 'browser-test' } })
  const inspect = await ops.newPage()
  await inspect.goto(`${n2.url}/inspect`)
  await poll(() => inspect.textContent('#stat-nodes')).toBe('3')
  await poll(() => inspect.locator('#nodes tr[data-node]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node')).sort())).toEqual(['n1', 'n2', 'n3'])
  await poll(() => inspect.textContent('#stat-connections')).toBe('3')
  await shot(inspect, 'cluster-inspector')
  await ops.close()

  // A direct message: ada clicks grace in the online list; grace gets an unread badge.
  await ada.click('#online [data-user=grace]')
  await poll(() => ada.textContent('#title')).toBe('@ grace')
  await say(ada, 'A secret, just for you')
  await grace.locator('#dms [data-dm=ada] .unread', { hasText: '1' }).waitFor()
  await grace.click('#dms [data-dm=ada]')
  await message(grace, 'ada', 'A secret, just for you').waitFor()

  // Rooms: grace opens a new room; ada sees it listed with its member count (roomStats topic).
  await grace.fill('#new-room-name', 'ops')
  await grace.press('#new-room-name', 'Enter')
  await poll(() => grace.textContent('#title')).toBe('# ops')
  await ada.locator('#rooms [data-room=ops] .members', { hasText: '1' }).waitFor()
  await ada.click('#rooms [data-room=general]')
  await shot(ada, 'cluster-ada-n1')
  await shot(grace, 'cluster-grace-n2')

  // grace's node stops (SIGTERM: graceful close, clients are told to go). Her page moves on.
  process.kill(n2.pid, 'SIGTERM')
  await poll(() => grace.textContent('#conn-text')).toMatch(/^connected · node n[13]$/)
  const moved = (await grace.textContent('#conn-text'))!.slice(-2)
  // She is back in her rooms (rejoined on `open`) and everything still works.
  await grace.locator('#online [data-user=ada]').waitFor()
  await ada.locator('#online [data-user=grace]', { hasText: moved }).waitFor({ timeout: 15_000 })
  await grace.click('#rooms [data-room=general]')
  await say(grace, `Still here, now on ${moved}`)
  await message(ada, 'grace', `Still here, now on ${moved}`).waitFor()
  await ada.click('#online [data-user=grace]')
  await say(ada, 'Welcome back')
  await grace.locator('#dms [data-dm=ada] .unread').waitFor()
  await say(grace, '@bot time')
  await message(grace, 'bot', 'UTC').waitFor()
  await shot(grace, 'failover-grace')
  await shot(ada, 'failover-ada')
  expect(demo.output()).toContain('node n2 exited')

  // ada's network goes; grace talks in #general; ada comes back, to whichever node answers, and
  // gets what she missed from JetStream: once each, in order.
  await ada.click('#rooms [data-room=general]')
  const roomTexts = (page: Page) => page.locator('#messages .msg:not(.system) .text').allTextContents()
  const before = await roomTexts(ada)
  await goOffline(ada)
  await ada.waitForSelector('#conn[data-state=reconnecting]')
  const missed = ['first while away', 'second while away', 'third while away']
  for (const text of missed) {
    await say(grace, text)
    await message(grace, 'grace', text).waitFor()
  }
  await ada.context().setOffline(false)
  await message(ada, 'grace', 'third while away').waitFor({ timeout: 20_000 })
  expect(await roomTexts(ada)).toEqual([...before, ...missed])
})

it('on one node with uWebSockets.js: the page shows the restart of the server and recovers by itself', { timeout: 60_000 }, async () => {
  // Fixed ports, so that the restarted demo comes back where the page expects it.
  const env = { PORTS: String(await freePort()), WS_PORTS: String(await freePort()) }
  let demo = await launchDemo(['--transport=uws'], env)
  try {
    expect(demo.output()).toContain('one node, in-memory bus, transport uws')
    // The name is the login: the server refuses the agent's name, and the page says why.
    const context = await browser.newContext()
    const refused = await context.newPage()
    await refused.goto(demo.nodes[0]!.url)
    await refused.fill('#name', 'bot')
    await refused.click('#login-form button[type=submit]')
    await poll(() => refused.textContent('#login-error')).toBe('"bot" is the agent\'s name: pick another')
    expect(await refused.isVisible('#login')).toBe(true)
    await context.close()

    const lin = await person('lin', demo.nodes[0]!.url)
    await say(lin, 'hey @bot')
    await message(lin, 'bot', 'Hi @lin!').waitFor()
    expect(await lin.textContent('#activity')).toBe('') // "bot is typing…" ended with its answer

    // Ctrl-C: the whole demo stops; the page says so and keeps trying.
    expect(await demo.stop()).toBe(0)
    await lin.waitForSelector('#conn[data-state=reconnecting]')
    await shot(lin, 'restart-reconnecting')
    await say(lin, 'sent while the server is down') // a call made offline waits for the next connection
    demo = await launchDemo(['--transport=uws'], env)
    await lin.waitForSelector('#conn[data-state=open]', { timeout: 20_000 })
    await message(lin, 'lin', 'sent while the server is down').waitFor()
    await say(lin, '@bot roll')
    await message(lin, 'bot', '@lin rolled a').waitFor()
    await lin.locator('#online [data-user=bot]').waitFor()
  } finally {
    await demo.stop()
  }
})

it('a page that was offline sees the room messages it missed, once and in order', { timeout: 60_000 }, async () => {
  await using demo = await launchDemo([])
  const url = demo.nodes[0]!.url
  const ada = await person('ada', url)
  const bob = await person('bob', url)
  const texts = (page: Page) => page.locator('#messages .msg:not(.system) .text').allTextContents()
  await poll(() => bob.textContent('#subtitle')).toBe('2 members')
  await say(bob, 'before the outage')
  await message(ada, 'bob', 'before the outage').waitFor()

  await goOffline(ada)
  await ada.waitForSelector('#conn[data-state=reconnecting]')
  const missed = ['one', 'two', 'three', 'four', 'five', 'six'].map((n) => `missed ${n}`)
  for (const text of missed) {
    await say(bob, text)
    await message(bob, 'bob', text).waitFor()
  }
  await ada.waitForTimeout(300)
  expect(await texts(ada)).toEqual(['before the outage'])
  await shot(ada, 'offline-ada')

  await ada.context().setOffline(false)
  await ada.waitForSelector('#conn[data-state=open]', { timeout: 20_000 })
  await message(ada, 'bob', 'missed six').waitFor()
  await say(bob, 'after the outage')
  await message(ada, 'bob', 'after the outage').waitFor()
  // Each once, in the order sent: the replay and the live messages meet without a gap or a duplicate.
  expect(await texts(ada)).toEqual(['before the outage', ...missed, 'after the outage'])
  expect(await ada.locator('#messages .msg.system', { hasText: 'could not be recovered' }).count()).toBe(0)
  await shot(ada, 'offline-ada-back')

  // A page opened now shows the room's last messages (`recent`, from the history), then live ones.
  const cy = await person('cy', url)
  await message(cy, 'bob', 'after the outage').waitFor()
  expect(await texts(cy)).toEqual(['before the outage', ...missed, 'after the outage'])
  await say(bob, 'hello cy')
  await message(cy, 'bob', 'hello cy').waitFor()
  expect(await texts(cy)).toEqual(['before the outage', ...missed, 'after the outage', 'hello cy'])
})

/** The element is displayed and lies entirely inside the viewport (nothing to scroll or resize). */
async function onScreen(page: Page, selector: string): Promise<boolean> {
  const box = await page.locator(selector).boundingBox()
  const { width, height } = page.viewportSize()!
  return box !== null && box.width > 0 && box.height > 0 && box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height
}

it('at 720 px wide (two windows side by side) rooms, DMs and the online list are on screen and work; on a phone they are one tap away', { timeout: 60_000 }, async () => {
  await using demo = await launchDemo([])
  const url = demo.nodes[0]!.url
  const narrow = { width: 720, height: 760 }
  const ada = await person('ada', url, undefined, narrow)
  const bob = await person('bob', url, undefined, narrow)

  for (const page of [ada, bob]) {
    for (const list of ['#rooms-and-dms', '#rooms', '#new-room', '#dms', '#online-list', '#online', '#composer']) {
      expect(await onScreen(page, list), list).toBe(true)
    }
    expect(await page.isVisible('#nav-toggle')).toBe(false) // nothing hidden behind a toggle at 720 px
    expect((await page.locator('#messages').boundingBox())!.width).toBeGreaterThanOrEqual(400)
  }

  // The online list: ada DMs bob by clicking him; bob sees the unread DM in his DM list.
  await ada.locator('#online [data-user=bob]').click()
  await poll(() => ada.textContent('#title')).toBe('@ bob')
  await say(ada, 'Side by side')
  await bob.locator('#dms [data-dm=ada] .unread', { hasText: '1' }).waitFor()
  await bob.click('#dms [data-dm=ada]')
  await message(bob, 'ada', 'Side by side').waitFor()

  // The rooms list: bob opens a room, ada sees it listed, joins it by a click and they talk there.
  await bob.fill('#new-room-name', 'narrow')
  await bob.press('#new-room-name', 'Enter')
  await poll(() => bob.textContent('#title')).toBe('# narrow')
  await ada.locator('#rooms [data-room=narrow] .members', { hasText: '1' }).waitFor()
  await ada.click('#rooms [data-room=narrow]')
  await poll(() => ada.textContent('#subtitle')).toBe('2 members')
  await say(ada, 'Found it in the list')
  await message(bob, 'ada', 'Found it in the list').waitFor()
  await shot(ada, 'narrow-720-ada')
  await shot(bob, 'narrow-720-bob')

  // A phone (400 px): the chat has the screen; the toggle shows the lists, a pick goes back to the chat.
  await bob.setViewportSize({ width: 400, height: 760 })
  expect(await bob.isVisible('#rooms')).toBe(false)
  expect(await onScreen(bob, '#composer')).toBe(true)
  await bob.click('#nav-toggle')
  for (const list of ['#rooms', '#dms', '#online']) expect(await onScreen(bob, list), list).toBe(true)
  expect(await bob.getAttribute('#nav-toggle', 'aria-expanded')).toBe('true')
  await shot(bob, 'narrow-400-bob-lists')
  await bob.click('#rooms [data-room=general]')
  await poll(() => bob.textContent('#title')).toBe('# general')
  expect(await bob.isVisible('#rooms')).toBe(false)
  expect(await onScreen(bob, '#composer')).toBe(true)
  await bob.click('#nav-toggle')
  await bob.click('#online [data-user=ada]')
  await poll(() => bob.textContent('#title')).toBe('@ ada')
  await say(bob, 'From my phone')
  await ada.locator('#dms [data-dm=bob] .unread', { hasText: '1' }).waitFor()
  await ada.click('#dms [data-dm=bob]')
  await message(ada, 'bob', 'From my phone').waitFor()
  await shot(bob, 'narrow-400-bob-chat')
})
