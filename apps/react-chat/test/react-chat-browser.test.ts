// The React chat in headless Chromium, against its real @rt server: two pages chat, a component
// that unmounts leaves the server's subscriptions, Strict Mode holds one stream per page, and a
// server restart on the same port shows reconnecting → open with the subscriptions back.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPage } from '../src/build-page.js'
import { serveChat } from '../src/serve.js'

const pageDir = mkdtempSync(join(tmpdir(), 'rt-react-chat-'))
let browser: Browser
let chat: Awaited<ReturnType<typeof serveChat>>
const errors: string[] = []

beforeAll(async () => {
  // A development build: only there does Strict Mode (main.tsx) mount every component twice.
  await buildPage({ development: true, outDir: pageDir })
  chat = await serveChat({ port: 0, pageDir })
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await chat?.close()
  rmSync(pageDir, { recursive: true, force: true })
})

/** Subscriptions the current server holds on the messages topic (one per page per room). */
const streams = () => chat.srv.stats().topics.messages ?? 0

async function open(name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  page.setDefaultTimeout(15_000)
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`))
  await page.goto(`${chat.url}?name=${name}`)
  await page.waitForSelector('#conn[data-state=open]')
  await page.waitForSelector('.room[data-status=live]')
  return page
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text)
  await page.click('#send')
  await expect.poll(() => page.inputValue('#text')).toBe('')
}

const lines = (page: Page) => page.locator('.room li').allTextContents()

describe('react chat in Chromium', () => {
  it('two pages chat, each stream once (Strict Mode), and an unmounted room leaves the server', { timeout: 60_000 }, async () => {
    const calls = () => chat.srv.stats().totals.calls
    const before = calls()
    const ann = await open('ann')
    // Strict Mode mounted the room twice. The first mount's joinRoom, still waiting for the
    // connection, was aborted by its unmount (useCall); that unmount's leaveRoom and the second
    // mount's joinRoom reached the server. A production build would send one joinRoom.
    await expect.poll(calls).toBe(before + 2)
    const bob = await open('bob')
    // ann was in #general first: she is told bob joined (an event, through useEvent).
    await expect.poll(() => ann.textContent('.notice')).toBe('bob joined #general')

    await say(ann, 'hello bob')
    await expect.poll(() => lines(bob)).toEqual(['annhello bob'])
    await say(bob, 'hi ann')
    await expect.poll(() => lines(ann)).toEqual(['annhello bob', 'bobhi ann'])
    expect(await lines(bob)).toEqual(['annhello bob', 'bobhi ann'])

    // Both pages render in Strict Mode: still one connection and one stream each.
    expect(chat.srv.connections.size).toBe(2)
    expect(streams()).toBe(2)

    // ann hides the room: the component unmounts and its subscription is gone from the server.
    await ann.click('#toggle')
    await expect.poll(streams).toBe(1)
    await ann.click('#toggle')
    await ann.waitForSelector('.room[data-status=live]')
    await expect.poll(streams).toBe(2)

    // Switching rooms moves the stream: #random gets messages, #general's no longer reach ann.
    await ann.click('button[data-room=random]')
    await ann.waitForSelector('.room[data-room=random][data-status=live]')
    await say(bob, 'only in general')
    await expect.poll(() => lines(bob)).toEqual(['annhello bob', 'bobhi ann', 'bobonly in general'])
    await say(ann, 'anyone in random?')
    await expect.poll(() => lines(ann)).toEqual(['annanyone in random?'])
    expect(streams()).toBe(2)

    await ann.context().close()
    await bob.context().close()
    await expect.poll(() => chat.srv.connections.size).toBe(0)
    expect(errors).toEqual([])
  })

  it('after a server restart on the same port: reconnecting → open, and subscriptions come back', { timeout: 60_000 }, async () => {
    const ann = await open('ann')
    const bob = await open('bob')
    await say(ann, 'before')
    await expect.poll(() => lines(bob)).toEqual(['annbefore'])
    expect(await ann.getAttribute('.room', 'data-recovered')).toBe('false') // a fresh subscription: nothing to recover
    // Every state the banner shows, as the page renders it.
    await ann.evaluate(() => {
      const el = document.getElementById('conn')!
      const seen: string[] = ((window as unknown as { states: string[] }).states = [])
      new MutationObserver(() => seen.push(el.dataset.state!)).observe(el, { attributes: true, attributeFilter: ['data-state'] })
    })
    const port = chat.port

    await chat.restart(500)
    expect(chat.port).toBe(port)
    await ann.waitForSelector('#conn[data-state=open]')
    await ann.waitForSelector('.room[data-status=live]')
    const states = await ann.evaluate(() => (window as unknown as { states: string[] }).states)
    expect(states).toContain('reconnecting')
    expect(states.at(-1)).toBe('open')
    expect(states.indexOf('reconnecting')).toBeLessThan(states.lastIndexOf('open'))

    // The new server holds both pages' streams again, and messages flow both ways.
    await expect.poll(streams).toBe(2)
    await say(bob, 'after')
    await expect.poll(() => lines(ann)).toEqual(['annbefore', 'bobafter'])
    // The messages' history outlived the restart: ann resubscribed from her position and recovered.
    expect(await ann.getAttribute('.room', 'data-recovered')).toBe('true')
    await say(ann, 'still here')
    await expect.poll(() => lines(bob)).toContain('annstill here')

    await ann.context().close()
    await bob.context().close()
    expect(errors).toEqual([])
  })
})
