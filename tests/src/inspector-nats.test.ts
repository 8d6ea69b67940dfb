// The inspector over a real NATS server: three nodes whose only link is NATS, the page served by
// one of them agrees with every node, and a disconnect from it closes a connection on another.
import { randomBytes } from 'node:crypto'
import { expect, it } from 'vitest'
import { createNatsBus } from '@rt/bus-nats'
import { agrees, open, populate, useBrowser } from './inspector/browser.js'
import { inspectedCluster } from './inspector/inspected-cluster.js'
import { startNatsServer } from './nats/nats-server.js'

const browser = useBrowser()

it('shows a cluster linked by NATS from any node, and disconnects across it', { timeout: 60_000 }, async () => {
  await using nats = await startNatsServer()
  const prefix = `i${randomBytes(4).toString('hex')}`
  const buses = [0, 1, 2].map(() => createNatsBus({ servers: nats.url, prefix, reconnectTimeWaitMs: 100 }))
  await using c = await inspectedCluster('ws', { buses, inspector: { actions: { disconnect: true } } })
  const { bob } = await populate(c)
  const { page, errors } = await open(browser(), c.nodes[2]!.pageUrl)
  const { servers } = await agrees(c, page, 2)
  expect(servers).toMatchObject({ nodes: 3, connections: 5, rooms: { lobby: 3, ops: 1 }, topics: { news: { total: 2 }, ticker: { total: 2 } } })
  // bob is on n2; the page is served by n3.
  await page.fill('#f-user', 'bob')
  await page.press('#f-user', 'Enter')
  await page.locator(`#conns tr[data-conn="${bob.connId}"] button.disconnect`).click()
  await expect.poll(() => bob.state, { timeout: 10_000 }).toBe('closed')
  await expect.poll(() => c.nodes[1]!.srv.connections.size, { timeout: 10_000 }).toBe(1)
  expect(errors).toEqual([])
})
