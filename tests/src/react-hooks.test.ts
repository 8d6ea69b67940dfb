// @vitest-environment happy-dom
// @rt/react's hooks against a real @rt server: listeners that never go stale, streams that follow
// their params, calls aborted on unmount, connection state, and Strict Mode's double mount.
import { StrictMode, createElement as h, type ReactNode } from 'react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { act, cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRtHooks } from '@rt/react'
import { contract, reactServer, sleep, until, type UserClient } from './react/react-fixture.js'

const { RtProvider, useEvent, useSubscription, useCall, useConnectionState } = createRtHooks(contract, 'user')

afterEach(() => cleanup())

const mount = (client: UserClient | (() => UserClient), ui: ReactNode, strict = false) => render(h(RtProvider, { client }, strict ? h(StrictMode, null, ui) : ui))

function Listener({ tag, seen }: { tag: string; seen: string[] }) {
  useEvent('message', (m) => seen.push(`${tag}:${m.text}`))
  return null
}

function Ticker({ symbol, onData }: { symbol: string; onData?: (price: number) => void }) {
  const t = useSubscription('ticker', { symbol }, { onData: (p) => onData?.(p.price) })
  return h('p', { 'data-testid': 'ticker', 'data-status': t.status }, t.data ? `${t.data.symbol}=${t.data.price}` : '-')
}

describe('useEvent', () => {
  it('calls the latest listener without listening again, and stops on unmount', async () => {
    await using s = await reactServer()
    const client = s.client()
    const on = vi.spyOn(client, 'on')
    const seen: string[] = []
    const view = mount(client, h(Listener, { tag: 'a', seen }))
    view.rerender(h(RtProvider, { client }, h(Listener, { tag: 'b', seen })))
    view.rerender(h(RtProvider, { client }, h(Listener, { tag: 'c', seen })))
    await client.ready()
    await s.srv.toConn(client.connId!).emit('message', { room: 'r', text: 'one', from: 'srv' })
    await until(() => seen.length === 1, 'the event')
    expect(seen).toEqual(['c:one'])
    expect(on).toHaveBeenCalledTimes(1)

    view.unmount()
    await s.srv.toConn(client.connId!).emit('message', { room: 'r', text: 'two', from: 'srv' })
    await client.call.ping() // the event, had anyone listened, arrived before this answer
    expect(seen).toEqual(['c:one'])
  })
})

describe('useSubscription', () => {
  it('moves to the new stream when params change and leaves the old one on the server', async () => {
    await using s = await reactServer()
    const client = s.client()
    const users = s.srv.forRole('user')
    const prices: number[] = []
    const view = mount(client, h(Ticker, { symbol: 'A', onData: (p) => prices.push(p) }))
    const shown = () => view.getByTestId('ticker')
    await until(() => shown().dataset.status === 'live', 'live on A')
    expect(s.subscribers('ticker')).toBe(1)
    await act(async () => void users.publish('ticker', { symbol: 'A', price: 1 }, { symbol: 'A' }))
    await until(() => shown().textContent === 'A=1', 'A=1 shown')

    view.rerender(h(RtProvider, { client }, h(Ticker, { symbol: 'B', onData: (p) => prices.push(p * 10) })))
    expect(shown().dataset.status).toBe('subscribing')
    await until(() => shown().dataset.status === 'live', 'live on B')
    await client.call.ping() // the unsub went out before this call
    expect(s.subscribers('ticker')).toBe(1)
    await act(async () => {
      users.publish('ticker', { symbol: 'A', price: 2 }, { symbol: 'A' })
      users.publish('ticker', { symbol: 'B', price: 3 }, { symbol: 'B' })
    })
    await until(() => shown().textContent === 'B=3', 'B=3 shown')
    // The latest onData ran (×10), and A's publication after the switch reached nobody.
    expect(prices).toEqual([1, 30])

    view.unmount()
    await until(() => s.subscribers('ticker') === 0, 'the server to drop the stream')
  })

  it('reports the server\'s refusal as status error, with the error', async () => {
    await using s = await reactServer()
    let error: { code: string } | undefined
    function Secret() {
      const t = useSubscription('ticker', { symbol: 'SECRET' })
      error = t.error
      return h('p', { 'data-testid': 'ticker', 'data-status': t.status })
    }
    const view = mount(s.client(), h(Secret))
    await until(() => view.getByTestId('ticker').dataset.status === 'error', 'the refusal')
    expect(error?.code).toBe('FORBIDDEN')
    expect(s.subscribers('ticker')).toBe(0)
  })

  it('on a history topic, recovers from `since` and reports recovered and position', async () => {
    await using s = await reactServer()
    const users = s.srv.forRole('user')
    const first = await users.publish('feed', { text: 'm1' }, { room: 'r1' })
    await users.publish('feed', { text: 'm2' }, { room: 'r1' })
    await users.publish('feed', { text: 'm3' }, { room: 'r1' })
    const texts: string[] = []
    let last: { recovered: boolean | undefined; offset: number | undefined; text: string | undefined; status: string } | undefined
    function Feed() {
      const f = useSubscription('feed', { room: 'r1' }, { since: first, onData: (m, meta) => texts.push(`${m.text}@${meta.offset}`) })
      last = { recovered: f.recovered, offset: f.position?.offset, text: f.data?.text, status: f.status }
      return null
    }
    mount(s.client(), h(Feed))
    await until(() => last?.text === 'm3' && last.status === 'live', 'the replay')
    expect(texts).toEqual(['m2@2', 'm3@3'])
    expect(last).toMatchObject({ recovered: true, offset: 3 })
    await act(async () => void (await users.publish('feed', { text: 'm4' }, { room: 'r1' })))
    await until(() => last?.offset === 4, 'the live publication')
    expect(texts).toEqual(['m2@2', 'm3@3', 'm4@4'])
  })
})

describe('useCall', () => {
  it('tracks data and pending, and aborts a call in flight when the component unmounts', async () => {
    await using s = await reactServer()
    let api: ReturnType<typeof useCall<'slow'>> | undefined
    function Slow() {
      api = useCall('slow')
      return h('p', { 'data-testid': 'slow' }, api.pending ? 'pending' : (api.data?.id ?? 'idle'))
    }
    const view = mount(s.client(), h(Slow))
    const shown = () => view.getByTestId('slow').textContent
    let done!: Promise<unknown>
    act(() => void (done = api!.call({ id: 'one' })))
    await until(() => s.slowStarted.includes('one'), 'the server to start the call')
    expect(shown()).toBe('pending')
    s.release('one')
    await act(() => done)
    expect(shown()).toBe('one')

    let inFlight!: Promise<unknown>
    act(() => void (inFlight = api!.call({ id: 'two' })))
    await until(() => s.slowStarted.includes('two'), 'the second call')
    view.unmount()
    await expect(inFlight).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('useCall errors', () => {
  it('a call that fails rejects and puts its error in the state; the next call clears it', async () => {
    await using s = await reactServer()
    let api: ReturnType<typeof useCall<'slow'>> | undefined
    function Slow() {
      api = useCall('slow')
      return h('p', { 'data-testid': 'slow' }, api.error ? `error ${(api.error as { code?: string }).code}` : (api.data?.id ?? (api.pending ? 'pending' : 'idle')))
    }
    const view = mount(s.client(), h(Slow))
    const shown = () => view.getByTestId('slow').textContent
    await act(() => expect(api!.call({ id: 'late' }, { timeout: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' }))
    expect(shown()).toBe('error TIMEOUT')
    let next!: Promise<unknown>
    act(() => void (next = api!.call({ id: 'ok' })))
    await until(() => s.slowStarted.includes('ok'), 'the second call')
    expect(shown()).toBe('pending')
    s.release('ok')
    await act(() => next)
    expect(shown()).toBe('ok')
  })
})

describe('useConnectionState', () => {
  it('follows the client from connecting to open to closed, with the last error', async () => {
    await using s = await reactServer()
    const client = s.client()
    function State() {
      const { state, error } = useConnectionState()
      return h('p', { 'data-testid': 'state' }, `${state}${error ? `: ${error.code}` : ''}`)
    }
    const view = mount(client, h(State))
    const shown = () => view.getByTestId('state').textContent
    expect(shown()).toBe('connecting')
    await until(() => shown() === 'open', 'open')
    await act(() => client.close())
    expect(shown()).toBe('closed: CONNECTION_LOST')
  })
})

describe('reconnection', () => {
  it('a server restart: connection reconnecting → open, subscriptions subscribing → live again, history recovered', async () => {
    await using s = await reactServer()
    const client = s.client()
    const states: string[] = []
    const feeds: string[] = []
    function Status() {
      const { state } = useConnectionState()
      const t = useSubscription('ticker', { symbol: 'A' })
      const f = useSubscription('feed', { room: 'r1' }, { onData: (m) => feeds.push(m.text) })
      const line = `${state} ${t.status} ${f.status} ${String(f.recovered)}`
      if (states.at(-1) !== line) states.push(line)
      return h('p', { 'data-testid': 'status' }, line)
    }
    const view = mount(client, h(Status))
    const shown = () => view.getByTestId('status').textContent
    await until(() => shown() === 'open live live false', 'live')
    await act(async () => void (await s.srv.forRole('user').publish('feed', { text: 'before' }, { room: 'r1' })))
    await until(() => feeds.length === 1, 'the first publication')

    await act(() => s.restart())
    await until(() => shown() === 'open live live true', 'live again, recovered', 10_000)
    // Both streams are back on the new server.
    expect(s.subscribers('ticker')).toBe(1)
    expect(s.subscribers('feed')).toBe(1)
    expect(states).toContain('reconnecting subscribing subscribing false')
    const reconnecting = states.findIndex((l) => l.startsWith('reconnecting'))
    expect(reconnecting).toBeGreaterThan(states.indexOf('open live live false'))
    // Recovery replayed nothing twice; the stream goes on.
    await act(async () => void (await s.srv.forRole('user').publish('feed', { text: 'after' }, { room: 'r1' })))
    await until(() => feeds.length === 2, 'the publication after the restart')
    expect(feeds).toEqual(['before', 'after'])
  })
})

describe('Strict Mode', () => {
  it('leaves exactly one server stream, and one connection from a client factory, closed on unmount', async () => {
    await using s = await reactServer()
    const factory = vi.fn(() => s.client())
    const seen: string[] = []
    const prices: number[] = []
    const view = mount(factory, h('div', null, h(Ticker, { symbol: 'A', onData: (p) => prices.push(p) }), h(Listener, { tag: 's', seen })), true)
    await until(() => view.getByTestId('ticker').dataset.status === 'live', 'live')
    await sleep(100) // a second subscription, had one been made, is answered by now
    expect(factory).toHaveBeenCalledTimes(1)
    expect(s.srv.connections.size).toBe(1)
    expect(s.subscribers('ticker')).toBe(1)
    const conn = [...s.srv.connections.keys()][0]!
    await s.srv.toConn(conn).emit('message', { room: 'r', text: 'once', from: 'srv' })
    await until(() => seen.length > 0, 'the event')
    await act(async () => void s.srv.forRole('user').publish('ticker', { symbol: 'A', price: 7 }, { symbol: 'A' }))
    await until(() => view.getByTestId('ticker').textContent === 'A=7', 'the publication')
    await sleep(50)
    // Each delivered once: no listener or subscription was left behind by the first mount.
    expect(seen).toEqual(['s:once'])
    expect(prices).toEqual([7])

    view.unmount()
    await until(() => s.srv.connections.size === 0, 'the factory client to close')
  })
})

describe('hydration', () => {
  it('hydrates the server HTML without a mismatch, then calls the client factory once and goes live', async () => {
    await using s = await reactServer()
    const factory = vi.fn(() => s.client())
    function Page() {
      const { state } = useConnectionState()
      const t = useSubscription('ticker', { symbol: 'A' })
      return h('p', { id: 'page' }, `${state} ${t.status}`)
    }
    const app = () => h(RtProvider, { client: factory }, h(Page))
    const container = document.createElement('div')
    container.innerHTML = renderToString(app())
    expect(container.textContent).toBe('connecting subscribing')
    expect(factory).not.toHaveBeenCalled()
    document.body.append(container)
    const recoverable: unknown[] = []
    const root = await act(async () => hydrateRoot(container, app(), { onRecoverableError: (e) => void recoverable.push(e) }))
    await until(() => container.textContent === 'open live', 'open and live')
    expect(recoverable).toEqual([])
    expect(factory).toHaveBeenCalledTimes(1)
    expect(s.subscribers('ticker')).toBe(1)
    act(() => root.unmount())
    container.remove()
    await until(() => s.srv.connections.size === 0, 'the factory client to close')
  })
})
