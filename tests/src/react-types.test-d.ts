// @rt/react's hooks are typed by the contract: wrong names, params and inputs do not compile,
// and what the hooks return follows the schemas.
import { describe, expectTypeOf, it } from 'vitest'
import type { ClientState, RtError, StreamPosition, SubscribedInfo } from '@rt/client'
import { createRtHooks, type SubscriptionStatus } from '@rt/react'
import { contract, type UserClient } from './react/react-fixture.js'

const { RtProvider, useRt, useEvent, useSubscription, useCall, useConnectionState } = createRtHooks(contract, 'user')
declare const client: UserClient

describe('@rt/react types', () => {
  it('useRt returns the typed client; RtProvider takes it or a factory of it', () => {
    expectTypeOf(useRt()).toEqualTypeOf<UserClient>()
    RtProvider({ client })
    RtProvider({ client: () => client })
    // @ts-expect-error not a client
    RtProvider({ client: 42 })
    // @ts-expect-error a role the hooks were not made for
    createRtHooks(contract, 'guest')
  })

  it('useEvent: event names and payloads from the role', () => {
    useEvent('message', (m) => expectTypeOf(m).toEqualTypeOf<{ room: string; text: string; from: string }>())
    // @ts-expect-error not an event of the role
    useEvent('mesage', () => {})
    // @ts-expect-error a topic is subscribed to, not listened to
    useEvent('ticker', () => {})
    // @ts-expect-error the payload has no `price`
    useEvent('message', (m) => m.price)
  })

  it('useSubscription: topic names, params, options and the result follow the contract', () => {
    const t = useSubscription('ticker', { symbol: 'A' }, { onData: (p, meta) => expectTypeOf(meta.offset).toEqualTypeOf<undefined>() })
    expectTypeOf(t.data).toEqualTypeOf<{ symbol: string; price: number } | undefined>()
    expectTypeOf(t.status).toEqualTypeOf<SubscriptionStatus>()
    expectTypeOf(t.status).toEqualTypeOf<'subscribing' | 'live' | 'error'>()
    expectTypeOf(t.error).toEqualTypeOf<RtError | undefined>()
    expectTypeOf(t.recovered).toEqualTypeOf<undefined>()
    expectTypeOf(t.position).toEqualTypeOf<undefined>()

    const f = useSubscription('feed', { room: 'r1' }, { since: { offset: 1, epoch: 'e' }, onSubscribed: (i) => expectTypeOf(i).toEqualTypeOf<SubscribedInfo>(), onData: (_m, meta) => expectTypeOf(meta).toEqualTypeOf<StreamPosition>() })
    expectTypeOf(f.data).toEqualTypeOf<{ text: string } | undefined>()
    expectTypeOf(f.recovered).toEqualTypeOf<boolean | undefined>()
    expectTypeOf(f.position).toEqualTypeOf<StreamPosition | undefined>()

    const n = useSubscription('news')
    expectTypeOf(n.data).toEqualTypeOf<{ headline: string } | undefined>()
    useSubscription('news', { onData: (p) => expectTypeOf(p.headline).toBeString() })

    // @ts-expect-error not a topic of the role
    useSubscription('tickr', { symbol: 'A' })
    // @ts-expect-error an event is listened to, not subscribed to
    useSubscription('message')
    // @ts-expect-error params are required
    useSubscription('ticker')
    // @ts-expect-error wrong params
    useSubscription('ticker', { sym: 'A' })
    // @ts-expect-error wrong params type
    useSubscription('ticker', { symbol: 1 })
    // @ts-expect-error `since` is for history topics
    useSubscription('ticker', { symbol: 'A' }, { since: { offset: 1, epoch: 'e' } })
    // @ts-expect-error `news` takes no params
    useSubscription('news', { symbol: 'A' })
  })

  it('useCall: procedure names, inputs and outputs from the role', async () => {
    const join = useCall('joinRoom')
    expectTypeOf(join.data).toEqualTypeOf<{ members: number } | undefined>()
    expectTypeOf(join.pending).toEqualTypeOf<boolean>()
    expectTypeOf(join.error).toEqualTypeOf<Error | undefined>()
    expectTypeOf(await join.call({ room: 'lobby' }, { signal: new AbortController().signal })).toEqualTypeOf<{ members: number }>()
    // @ts-expect-error wrong input
    void join.call({ rom: 'lobby' })
    // @ts-expect-error input required
    void join.call()
    // z.void() input: no argument needed
    void useCall('ping').call()
    // @ts-expect-error another role's procedure
    useCall('kick')
    // @ts-expect-error not a procedure
    useCall('joinRom')
  })

  it('useConnectionState: the client state and its last error', () => {
    const c = useConnectionState()
    expectTypeOf(c.state).toEqualTypeOf<ClientState>()
    expectTypeOf(c.state).toEqualTypeOf<'connecting' | 'open' | 'reconnecting' | 'closed'>()
    expectTypeOf(c.error).toEqualTypeOf<RtError | undefined>()
  })
})
