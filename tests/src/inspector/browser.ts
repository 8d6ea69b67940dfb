import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect } from 'vitest'
import { sleep } from '../harness.js'
import { PASSWORD, type InspectedCluster } from './inspected-cluster.js'
import { readPage, readServers } from './read-page.js'

/** Headless Chromium, as the demo's browser tests launch it. */
export const launch = () => chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })

/** One Chromium for the test file: launched before its tests (never skipped: without Chromium they fail), closed after. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launch()
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
  })
  return () => browser!
}

/** A page with the inspector's credentials (or none), collecting its errors. */
export async function open(browser: Browser, url: string, credentials = true): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 }, ...(credentials && { httpCredentials: { username: 'admin', password: PASSWORD } }) })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
  await page.goto(url)
  return { page, errors }
}

/** Page and servers agree: both read, again and again, until they match (the page refreshes every 200 ms). */
export async function agrees(c: InspectedCluster, page: Page, via: number) {
  let last: unknown
  await expect
    .poll(
      async () => {
        const servers = await readServers(c, via)
        const shown = await readPage(page)
        last = { servers, shown }
        return JSON.stringify(shown) === JSON.stringify(servers)
      },
      { timeout: 15_000, interval: 100, message: 'page and servers agree' },
    )
    .toBe(true)
    .catch((e: unknown) => {
      throw new Error(`page and servers disagree: ${JSON.stringify(last)}`, { cause: e })
    })
  return last as { servers: Awaited<ReturnType<typeof readServers>> }
}

/** Five connections on three nodes, two rooms, two topics, and traffic on demand. */
export async function populate(c: InspectedCluster) {
  const people = [
    c.join(0, 'user', 'ann'),
    c.join(1, 'agent', 'bob'),
    c.join(2, 'user', 'cid'),
    c.join(0, 'user', 'dan'),
    c.join(1, 'user', 'ann'),
  ] as const
  await Promise.all(people.map((p) => p.ready()))
  const [ann, bob, cid, dan] = people
  const conn = (i: number, id: string | undefined) => c.nodes[i]!.srv.connections.get(id!)!
  c.nodes[0]!.srv.room('lobby').add(conn(0, ann.connId))
  c.nodes[1]!.srv.room('lobby').add(conn(1, bob.connId))
  c.nodes[2]!.srv.room('lobby').add(conn(2, cid.connId))
  c.nodes[1]!.srv.room('ops').add(conn(1, bob.connId))
  await ann.subscribe('news', () => {}).ready
  await dan.subscribe('news', () => {}).ready
  await cid.subscribe('ticker', { symbol: 'A' }, () => {}).ready
  await cid.subscribe('ticker', { symbol: 'B' }, () => {}).ready
  /** Calls and publishes at a rate that swells and ebbs, so the charts have something to draw. */
  const traffic = async (ms: number) => {
    const end = Date.now() + ms
    for (let i = 0; Date.now() < end; i++) {
      const burst = 1 + Math.round(4 * (1 + Math.sin(i / 6)))
      for (let k = 0; k < burst; k++) {
        void ann.call.ping({})
        void cid.call.echo({ text: 'x' })
        c.nodes[k % 3]!.srv.publish('news', { headline: `h${i}` })
      }
      await dan.call.ping({})
      await sleep(40)
    }
  }
  await traffic(800)
  return { ann, bob, cid, dan, traffic }
}
