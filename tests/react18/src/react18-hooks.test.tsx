// @vitest-environment happy-dom
// @rt/react's hooks on React 18 (the rest of the suite runs React 19): the same source, resolved
// against React 18 by the `react18` vitest project.
import * as React from 'react'
import { StrictMode } from 'react'
import { renderToString } from 'react-dom/server'
import { act, cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRtHooks } from '@rt/react'
import { contract, reactServer, sleep, until } from '../../src/react/react-fixture.js'

const { RtProvider, useEvent, useSubscription, useCall, useConnectionState } = createRtHooks(contract, 'user')

afterEach(() => cleanup())

function Ticker({ symbol }: { symbol: string }) {
  const t = useSubscription('ticker', { symbol })
  const { state } = useConnectionState()
  return (
    <p data-testid="ticker" data-status={t.status} data-conn={state}>
      {t.data ? `${t.data.symbol}=${t.data.price}` : '-'}
    </p>
  )
}

describe('@rt/react on React 18', () => {
  it('runs React 18', () => {
    expect(React.version).toMatch(/^18\./)
  })

  it('useEvent calls the latest listener without listening again', async () => {
    await using s = await reactServer()
    const client = s.client()
    const on = vi.spyOn(client, 'on')
    const seen: string[] = []
    function Listener({ tag }: { tag: string }) {
      useEvent('message', (m) => seen.push(`${tag}:${m.text}`))
      return null
    }
    const view = render(<RtProvider client={client}><Listener tag="a" /></RtProvider>)
    view.rerender(<RtProvider client={client}><Listener tag="b" /></RtProvider>)
    await client.ready()
    await s.srv.toConn(client.connId!).emit('message', { room: 'r', text: 'one', from: 'srv' })
    await until(() => seen.length === 1, 'the event')
    expect(seen).toEqual(['b:one'])
    expect(on).toHaveBeenCalledTimes(1)
  })

  it('useSubscription switches streams on a params change, and Strict Mode leaves one server stream', async () => {
    await using s = await reactServer()
    const client = s.client()
    const users = s.srv.forRole('user')
    const view = render(<RtProvider client={client}><StrictMode><Ticker symbol="A" /></StrictMode></RtProvider>)
    const shown = () => view.getByTestId('ticker')
    await until(() => shown().dataset.status === 'live', 'live on A')
    await sleep(100)
    expect(shown().dataset.conn).toBe('open')
    expect(s.subscribers('ticker')).toBe(1)

    view.rerender(<RtProvider client={client}><StrictMode><Ticker symbol="B" /></StrictMode></RtProvider>)
    await until(() => shown().dataset.status === 'live', 'live on B')
    await client.call.ping()
    expect(s.subscribers('ticker')).toBe(1)
    await act(async () => {
      users.publish('ticker', { symbol: 'A', price: 1 }, { symbol: 'A' })
      users.publish('ticker', { symbol: 'B', price: 2 }, { symbol: 'B' })
    })
    await until(() => shown().textContent === 'B=2', 'B=2 shown')
    view.unmount()
    await until(() => s.subscribers('ticker') === 0, 'the server to drop the stream')
  })

  it('server rendering opens no socket and renders the initial state', async () => {
    await using s = await reactServer()
    const factory = vi.fn(() => s.client())
    const html = renderToString(<RtProvider client={factory}><Ticker symbol="A" /></RtProvider>)
    expect(html).toBe('<p data-testid="ticker" data-status="subscribing" data-conn="connecting">-</p>')
    expect(factory).not.toHaveBeenCalled()
    expect(s.srv.connections.size).toBe(0)
  })

  it('useCall aborts a call in flight on unmount', async () => {
    await using s = await reactServer()
    let call: ((input: { id: string }) => Promise<unknown>) | undefined
    function Slow() {
      const slow = useCall('slow')
      call = slow.call
      return <p data-testid="slow">{slow.pending ? 'pending' : 'idle'}</p>
    }
    const view = render(<RtProvider client={s.client()}><Slow /></RtProvider>)
    let inFlight!: Promise<unknown>
    act(() => void (inFlight = call!({ id: 'x' })))
    await until(() => s.slowStarted.includes('x'), 'the server to start the call')
    expect(view.getByTestId('slow').textContent).toBe('pending')
    view.unmount()
    await expect(inFlight).rejects.toMatchObject({ name: 'AbortError' })
  })
})
