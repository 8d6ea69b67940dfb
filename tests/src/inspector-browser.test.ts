// The inspector page in headless Chromium against three nodes: what it shows equals what the
// servers report at the same moment, it follows the cluster live, and its disconnect button
// (when enabled) closes a connection held by another node. Once per transport; the ws run
// leaves a screenshot in tests/test-artifacts/ (with RT_UPDATE_DOCS_IMAGES=1, in docs/images/inspector.png).
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { agrees, open, populate, useBrowser } from './inspector/browser.js'
import { inspectedCluster, type TransportKind } from './inspector/inspected-cluster.js'

// A tracked file is rewritten only on purpose: a test run leaves the working tree as it was.
const IMAGES = fileURLToPath(new URL(process.env.RT_UPDATE_DOCS_IMAGES === '1' ? '../../docs/images/' : '../test-artifacts/', import.meta.url))
const browser = useBrowser()

describe.each<TransportKind>(['ws', 'uws'])('inspector page on three nodes (%s)', (kind) => {
  it('shows what the servers report, follows the cluster live, and disconnects across nodes', { timeout: 90_000 }, async () => {
    await using c = await inspectedCluster(kind, { inspector: { actions: { disconnect: true } } })
    const readOnly = c.nodes[0]!.mount({ path: '/inspect-ro' })
    const { cid, traffic } = await populate(c)

    // Served by n2, which holds none of the connections it lists on n1 and n3.
    const { page, errors } = await open(browser(), c.nodes[1]!.pageUrl)
    await page.waitForSelector('#status[data-state=live]')
    const { servers } = await agrees(c, page, 1)
    expect(servers).toMatchObject({ nodes: 3, connections: 5, users: 4, rooms: { lobby: 3, ops: 1 }, topics: { news: { total: 2, n1: 2 }, ticker: { total: 2, n3: 2 } } })
    expect(servers.perNode.n2).toEqual({ connections: 2, roles: { agent: 1, user: 1 }, subscriptions: 0 })
    expect(await page.textContent('#served-by')).toBe('n2')
    if (kind === 'ws') {
      // A few seconds of charts for the picture.
      await traffic(4_000)
      mkdirSync(IMAGES, { recursive: true })
      await page.screenshot({ path: `${IMAGES}inspector.png`, fullPage: true })
    }

    // Live: someone arrives on n3 and joins a room; nobody reloads the page.
    const eve = c.join(2, 'agent', 'eve')
    await eve.ready()
    c.nodes[2]!.srv.room('ops').add(c.nodes[2]!.srv.connections.get(eve.connId!)!)
    const after = await agrees(c, page, 1)
    expect(after.servers).toMatchObject({ connections: 6, users: 5, rooms: { ops: 2 } })

    // Disconnect cid (held by n3) from the page n2 serves.
    await page.fill('#f-user', 'cid')
    await page.press('#f-user', 'Enter')
    const row = page.locator(`#conns tr[data-conn="${cid.connId}"]`)
    await row.locator('button.disconnect').click()
    await expect.poll(() => cid.state, { timeout: 10_000 }).toBe('closed')
    await expect.poll(() => c.nodes[2]!.srv.connections.size, { timeout: 10_000 }).toBe(1)
    await page.fill('#f-user', '')
    await page.press('#f-user', 'Enter')
    await agrees(c, page, 1)
    expect(errors).toEqual([])

    // The read-only inspector offers no button, and its endpoint refuses.
    const ro = await open(browser(), `${c.nodes[0]!.origin}${readOnly.path}`)
    await ro.page.waitForSelector('#conns tr[data-conn]')
    expect(await ro.page.locator('button.disconnect').count()).toBe(0)
    const status = await ro.page.evaluate(async (path) => {
      const r = await fetch(`${path}/api/disconnect`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rt-inspector': '1' }, body: '{"connId":"x"}' })
      return r.status
    }, readOnly.path)
    expect(status).toBe(403)

    // Without credentials the browser gets nothing but the refusal.
    const anonymous = await browser().newContext()
    const res = await anonymous.request.get(c.nodes[1]!.pageUrl)
    expect(res.status()).toBe(401)
    expect(await res.text()).not.toContain('inspector</title>')
    await anonymous.close()
  })
})
