// Server rendering: @rt/react's hooks render their initial state, a client factory is never
// called, and nothing is subscribed on the server's behalf.
import { createElement as h } from 'react'
import { renderToString } from 'react-dom/server'
import { describe, expect, it, vi } from 'vitest'
import { createRtHooks } from '@rt/react'
import { contract, reactServer, type UserClient } from './react/react-fixture.js'

const { RtProvider, useRt, useEvent, useSubscription, useCall, useConnectionState } = createRtHooks(contract, 'user')

function App() {
  const conn = useConnectionState()
  const ticker = useSubscription('ticker', { symbol: 'A' })
  const feed = useSubscription('feed', { room: 'r1' })
  const join = useCall('joinRoom')
  useEvent('message', () => {})
  return h('p', null, [conn.state, String(conn.error), ticker.status, String(ticker.data), feed.status, String(feed.position), String(join.pending), String(join.data)].join(' '))
}

const INITIAL = 'connecting undefined subscribing undefined subscribing undefined false undefined'

describe('server rendering', () => {
  it('with a client factory: the factory is never called, so no socket opens', async () => {
    await using s = await reactServer()
    const factory = vi.fn((): UserClient => s.client())
    const html = renderToString(h(RtProvider, { client: factory }, h(App)))
    expect(html).toBe(`<p>${INITIAL}</p>`)
    expect(factory).not.toHaveBeenCalled()
    expect(s.srv.connections.size).toBe(0)
  })

  it('with a client: the hooks render their initial state and subscribe to nothing', async () => {
    await using s = await reactServer()
    const client = s.client()
    await client.ready()
    const subscribe = vi.spyOn(client, 'subscribe')
    const on = vi.spyOn(client, 'on')
    const html = renderToString(h(RtProvider, { client }, h(App)))
    expect(html).toBe(`<p>${INITIAL}</p>`)
    expect(subscribe).not.toHaveBeenCalled()
    expect(on).not.toHaveBeenCalled()
    await client.call.ping()
    expect(s.srv.stats().topics).toEqual({})
  })

  it('useRt gives the client passed, and throws while a factory has made none', async () => {
    await using s = await reactServer()
    const client = s.client()
    let got: unknown
    function Uses() {
      got = useRt()
      return null
    }
    renderToString(h(RtProvider, { client }, h(Uses)))
    expect(got).toBe(client)
    expect(() => renderToString(h(RtProvider, { client: () => client }, h(Uses)))).toThrow(/no client yet/)
    expect(() => renderToString(h(Uses))).toThrow(/inside an <RtProvider>/)
  })
})
