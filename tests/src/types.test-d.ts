import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { defineContract, type EventName, type ProcedureName, type RoleOf, type RtError, type SharedEventName, type TopicName } from '@rt/contract'
import { createClient } from '@rt/client'
import { createServer, type Conn, type Server, type Transport } from '@rt/server'
import { contract, type TestContract } from './fixtures.js'

declare const transport: Transport
declare function render(m: { room: string; text: string; from: string }): void
declare const targetId: string, from: string, text: string

describe('contract types', () => {
  it('rejects a name declared twice in one role vocabulary', () => {
    defineContract({
      shared: { clientToServer: { ping: { input: z.object({}), output: z.object({}) } } },
      roles: {
        // @ts-expect-error "ping" is already declared in shared.clientToServer
        user: { clientToServer: { ping: { input: z.object({}), output: z.object({}) } } },
      },
    })
    defineContract({
      shared: { serverToClient: { message: { payload: z.string() } } },
      roles: {
        // @ts-expect-error "message" is already declared in shared.serverToClient
        user: { serverToClient: { message: { payload: z.string() } } },
      },
    })
    // The same name in two different roles is fine: each role has its own vocabulary.
    defineContract({
      roles: {
        user: { serverToClient: { note: { payload: z.string() } } },
        agent: { serverToClient: { note: { payload: z.number() } } },
      },
    })
  })
})

describe('name types', () => {
  it('resolve to plain unions of names (what compile errors print)', () => {
    expectTypeOf<RoleOf<TestContract>>().toEqualTypeOf<'user' | 'agent'>()
    expectTypeOf<EventName<TestContract, 'user'>>().toEqualTypeOf<'message' | 'dm' | 'alert'>()
    expectTypeOf<SharedEventName<TestContract>>().toEqualTypeOf<'message' | 'dm'>()
    expectTypeOf<TopicName<TestContract, 'user'>>().toEqualTypeOf<'news' | 'ticker' | 'quotes'>()
    expectTypeOf<ProcedureName<TestContract, 'agent'>>().toEqualTypeOf<'ping' | 'echo' | 'fail' | 'whoami' | 'reply'>()
    // Across all roles: only what every role has.
    expectTypeOf<EventName<TestContract, RoleOf<TestContract>>>().toEqualTypeOf<'message' | 'dm'>()
  })

  it('are strings in generic code', () => {
    const f = <C extends TestContract, R extends RoleOf<C>>(role: R, event: EventName<C, R>, p: ProcedureName<C, R>): string => `${role}.${event}.${p}`
    void f
  })
})

describe('client types', () => {
  const user = createClient(contract, { url: 'ws://x', role: 'user' })
  const agent = createClient(contract, { url: 'ws://x', role: 'agent' })

  it('types calls by role, input and output', () => {
    expectTypeOf(user.call.ping).parameter(0).toEqualTypeOf<Record<string, never>>()
    expectTypeOf(user.call.joinRoom({ room: 'a' })).resolves.toEqualTypeOf<{ members: number }>()
    // @ts-expect-error wrong input type
    void user.call.joinRoom({ room: 42 })
    // @ts-expect-error missing input
    void user.call.joinRoom()
    // @ts-expect-error a user cannot call an agent procedure
    void user.call.reply({ to: 'a', text: 'b' })
    // @ts-expect-error an agent cannot call a user procedure
    void agent.call.notify({})
    expectTypeOf(agent.call.reply).returns.resolves.toEqualTypeOf<{ ok: boolean }>()
  })

  it('types events by role', () => {
    user.on('message', (m) => expectTypeOf(m).toEqualTypeOf<{ room: string; text: string; from: string }>())
    user.on('alert', (a) => expectTypeOf(a.level).toEqualTypeOf<'info' | 'warn'>())
    expectTypeOf(user.on('dm', () => {})).toEqualTypeOf<() => void>()
    // @ts-expect-error unknown event
    user.on('nope', () => {})
    // @ts-expect-error an agent event is not a user event
    user.on('task', () => {})
    // @ts-expect-error a topic is not an event: it is subscribed to, not listened to
    user.on('ticker', () => {})
    agent.on('task', (t) => expectTypeOf(t).toEqualTypeOf<{ id: string; prompt: string }>())
  })
})

describe('server types', () => {
  it('requires every handler and types handler arguments', () => {
    createServer({
      contract,
      transport,
      authenticate: () => ({ user: { id: 'u', name: 'n' } }),
      handlers: {
        shared: {
          ping: () => ({ at: 1 }),
          echo: (i) => i,
          fail: () => ({ ok: true }),
          whoami: (_i, ctx, conn) => ({ conn: conn.id, user: ctx.user.name, role: conn.role, node: conn.nodeId }),
        },
        user: {
          notify: (_i, _ctx, conn) => {
            conn.emit('message', { room: 'lobby', text: 'hi', from: 'system' })
            conn.emit('alert', { level: 'warn', text: 'x' })
            // @ts-expect-error an agent event cannot be emitted to a user connection
            conn.emit('task', { id: '1', prompt: 'p' })
            // @ts-expect-error wrong payload
            conn.emit('message', { room: 'lobby' })
            return { ok: true }
          },
          joinRoom: (input) => {
            expectTypeOf(input).toEqualTypeOf<{ room: string }>()
            return { members: 1 }
          },
          burst: () => ({ sent: 0 }),
        },
        agent: {
          // @ts-expect-error output must match the contract
          reply: () => ({ ok: 'yes' }),
        },
      },
    })
    createServer({
      contract,
      transport,
      authenticate: () => ({ user: { id: 'u' } }),
      // @ts-expect-error the agent handlers are missing
      handlers: {
        shared: { ping: () => ({ at: 1 }), echo: (i) => i, fail: () => ({ ok: true }), whoami: () => ({ conn: '', user: '', role: '', node: '' }) },
        user: { notify: () => ({ ok: true }), joinRoom: () => ({ members: 1 }), burst: () => ({ sent: 0 }) },
      },
    })
  })

  it('requires authenticate to return a user id', () => {
    createServer({
      contract,
      transport,
      // @ts-expect-error ctx must contain user.id
      authenticate: () => ({ name: 'x' }),
      handlers: {} as never,
    })
  })

  it('scopes Conn to its role', () => {
    type AgentConn = Conn<TestContract, 'agent'>
    expectTypeOf<Parameters<AgentConn['emit']>[0]>().toEqualTypeOf<'message' | 'dm' | 'task'>()
    expectTypeOf<RtError['code']>().toEqualTypeOf<
      'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'TIMEOUT' | 'RATE_LIMITED' | 'PAYLOAD_TOO_LARGE' | 'CONFLICT' | 'INTERNAL' | 'CONNECTION_LOST' | 'UNAVAILABLE'
    >()
  })
})

describe('rooms and addressing types', () => {
  const srv = createServer({
    contract,
    transport,
    authenticate: () => ({ user: { id: 'u' } }),
    handlers: {} as never,
  })

  it('room.broadcast accepts shared events only', () => {
    srv.room('r').broadcast('message', { room: 'r', text: 't', from: 'f' })
    srv.room('r').broadcast('dm', { from: 'f', text: 't' })
    // @ts-expect-error a role event cannot be broadcast to a mixed-role room
    srv.room('r').broadcast('alert', { level: 'info', text: 'x' })
    // @ts-expect-error topics are published, not broadcast
    srv.room('r').broadcast('news', { headline: 'h' })
    // @ts-expect-error wrong payload
    srv.room('r').broadcast('dm', { from: 'f' })
    expectTypeOf(srv.room('r').size).toEqualTypeOf<number>()
    expectTypeOf(srv.room('r').count()).resolves.toEqualTypeOf<number>()
  })

  it('toConn/toUser take shared events; forRole(r) takes that role’s events', () => {
    void srv.toUser('u').emit('dm', { from: 'a', text: 'b' })
    // @ts-expect-error a role event needs forRole
    void srv.toUser('u').emit('task', { id: '1', prompt: 'p' })
    void srv.forRole('agent').toUser('u').emit('task', { id: '1', prompt: 'p' })
    void srv.forRole('agent').toConn('c').emit('dm', { from: 'a', text: 'b' })
    // @ts-expect-error a user event is not an agent event
    void srv.forRole('agent').toConn('c').emit('alert', { level: 'info', text: 'x' })
    // @ts-expect-error unknown role
    srv.forRole('admin')
  })
})

describe('topic types', () => {
  const user = createClient(contract, { url: 'ws://x', role: 'user' })
  const agent = createClient(contract, { url: 'ws://x', role: 'agent' })
  const srv = createServer({ contract, transport, authenticate: () => ({ user: { id: 'u' } }), handlers: {} as never })

  it('types client subscriptions, with params only where the topic has them', () => {
    const unsubscribe = user.subscribe('ticker', { symbol: 'AAPL' }, (t) => expectTypeOf(t).toEqualTypeOf<{ price: number }>())
    expectTypeOf(unsubscribe).toBeCallableWith()
    expectTypeOf(unsubscribe.ready).toEqualTypeOf<Promise<void>>()
    user.subscribe('news', (n) => expectTypeOf(n.headline).toBeString())
    // @ts-expect-error ticker needs params
    user.subscribe('ticker', () => {})
    // @ts-expect-error wrong params
    user.subscribe('ticker', { symbol: 1 }, () => {})
    // @ts-expect-error an event is not a topic
    user.subscribe('message', () => {})
    // @ts-expect-error ticker is a user topic
    agent.subscribe('ticker', { symbol: 'A' }, () => {})
    agent.subscribe('news', () => {})
  })

  it('types server publish and listeners', () => {
    srv.publish('news', { headline: 'h' })
    // @ts-expect-error ticker is a role topic: forRole('user').publish
    srv.publish('ticker', { price: 1 }, { symbol: 'A' })
    srv.forRole('user').publish('ticker', { price: 1 }, { symbol: 'A' })
    // @ts-expect-error params required
    srv.forRole('user').publish('ticker', { price: 1 })
    // @ts-expect-error payload type
    srv.forRole('user').publish('ticker', { price: '1' }, { symbol: 'A' })
    srv.forRole('user').subscribe('ticker', (t, params, meta) => {
      expectTypeOf(t.price).toBeNumber()
      expectTypeOf(params.symbol).toBeString()
      expectTypeOf(meta.nodeId).toBeString()
    })
    srv.subscribe('news', (n, params) => {
      expectTypeOf(n).toEqualTypeOf<{ headline: string }>()
      expectTypeOf(params).toBeUndefined()
    })
  })

  it('types topic gates', () => {
    createServer({
      contract,
      transport,
      authenticate: () => ({ user: { id: 'u', name: 'n' } }),
      handlers: {} as never,
      topics: {
        user: { ticker: { authorize: (params, ctx) => params.symbol !== ctx.user.name } },
        shared: { news: { authorize: () => true } },
        // @ts-expect-error task is an event, not a topic
        agent: { task: { authorize: () => true } },
      },
    })
  })
})

// The snippets of docs page 00 "Events & rooms", verbatim, with no annotation: they must compile in
// a user's strict project (issue 12 §5). Only `{ ... }` in the rooms snippet is filled in.
describe('seed page snippets (Events & rooms)', () => {
  it('compile as written, including onConnection returning srv.room(…).add(conn)', () => {
    const contract = defineContract({
      shared: {
        serverToClient: {
          message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) },
          dm: { payload: z.object({ from: z.string(), text: z.string() }) },
        },
      },
      roles: { user: { clientToServer: { notify: { input: z.object({}), output: z.object({ ok: z.boolean() }) } } } },
    })
    const client = createClient(contract, { url: 'ws://x', role: 'user' })
    const off = client.on('message', (m) => render(m)) // m is typed
    off() // stop listening

    const srv = createServer({
      contract,
      transport,
      authenticate: () => ({ user: { id: 'u' } }),
      handlers: {
        user: {
          notify: async (_input, _ctx, conn) => {
            conn.emit('message', { room: 'lobby', text: 'hi', from: 'system' })
            return { ok: true }
          },
        },
      },
      onConnection: (conn, ctx) => srv.room(`user:${ctx.user.id}`).add(conn),
      onDisconnect: (conn) => srv.room('room:42').remove(conn),
    })
    // later, from any node:
    srv.room(`user:${targetId}`).broadcast('dm', { from, text })

    const conn = [...srv.connections.values()][0]!
    srv.room('room:42').add(conn)                       // server-controlled membership
    srv.room('room:42').broadcast('message', { room: '42', text: 'hi', from: 'me' })   // delivered to every member
    srv.room('room:42').remove(conn)
    srv.room('room:42').size                            // member count on THIS node
    expectTypeOf(srv).toEqualTypeOf<Server<typeof contract, { user: { id: string } }>>()
  })

  it('compiles the shared-events declaration', () => {
    const c = defineContract({
      shared: {
        serverToClient: { message: { payload: z.object({ room: z.string(), text: z.string(), from: z.string() }) } },
      },
      roles: { user: {} },
    })
    const srv = createServer({ contract: c, transport, authenticate: () => ({ user: { id: 'u' } }), handlers: {} })
    srv.room('r').broadcast('message', { room: 'r', text: 't', from: 'f' })
  })

  it('accepts async hooks whose promise the server awaits', () => {
    const srv = createServer({
      contract,
      transport,
      authenticate: () => ({ user: { id: 'u' } }),
      handlers: {} as never,
      onConnection: async (conn, ctx) => {
        await srv.room(`user:${ctx.user.id}`).count()
        srv.room('lobby').add(conn)
      },
      onDisconnect: async (conn, _ctx, reason) => {
        expectTypeOf(reason.code).toBeNumber()
        await srv.toConn(conn.id).emit('dm', { from: 'a', text: 'b' })
      },
    })
    expectTypeOf(srv.room('r').size).toBeNumber()
  })
})

describe('handlers whose return value comes from srv', () => {
  interface Ctx { user: { id: string; name: string } }

  it('need the server annotated once (circular by nature: docs/server.md)', () => {
    const srv: Server<typeof contract, Ctx> = createServer({
      contract,
      transport,
      authenticate: () => ({ user: { id: 'u', name: 'n' } }),
      handlers: {
        shared: {
          ping: () => ({ at: srv.stats().connections }),
          echo: (i) => i,
          fail: () => ({ ok: true }),
          whoami: (_i, ctx, conn) => ({ conn: conn.id, user: ctx.user.name, role: conn.role, node: srv.nodeId }),
        },
        user: {
          notify: () => ({ ok: true }),
          joinRoom: async ({ room }, _ctx, conn) => {
            srv.room(room).add(conn)
            return { members: await srv.room(room).count() }
          },
          burst: () => ({ sent: srv.room('r').size }),
        },
        agent: { reply: () => ({ ok: true }) },
      },
      topics: { user: { ticker: { authorize: () => srv.connections.size < 100 } } },
    })
    expectTypeOf(srv.connections.get('c')!.ctx.user.name).toBeString()
  })
})

describe('history topic types (client)', () => {
  type Info = import('@rt/client').SubscribedInfo
  type Position = import('@rt/client').StreamPosition
  const hc = defineContract({
    roles: {
      user: {
        serverToClient: {
          feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room: z.string() }), history: { size: 100 } },
          plain: { payload: z.object({ n: z.number() }), subscribe: true },
        },
      },
    },
  })
  const c = createClient(hc, { url: 'ws://x', role: 'user' })

  it('gives history subscriptions a position, ready info, onSubscribed, since and meta', () => {
    const sub = c.subscribe(
      'feed',
      { room: 'r' },
      (m, meta) => {
        expectTypeOf(m.text).toBeString()
        expectTypeOf(meta).toEqualTypeOf<Position>()
      },
      { onSubscribed: (i) => expectTypeOf(i).toEqualTypeOf<Info>(), since: { offset: 1, epoch: 'e' } },
    )
    expectTypeOf(sub.ready).toEqualTypeOf<Promise<Info>>()
    expectTypeOf(sub.position).toEqualTypeOf<Position | undefined>()
    // @ts-expect-error since is a position
    c.subscribe('feed', { room: 'r' }, () => {}, { since: 3 })
  })

  it('leaves plain topics without positions', () => {
    const sub = c.subscribe('plain', (_m, meta) => expectTypeOf(meta.offset).toEqualTypeOf<undefined>())
    expectTypeOf(sub.ready).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error no position on a plain topic's subscription
    void sub.position
    // @ts-expect-error onSubscribed and since are for history topics
    c.subscribe('plain', () => {}, { since: { offset: 1, epoch: 'e' } })
  })
})

describe('history topic types (server)', () => {
  type Position = import('@rt/contract').StreamPosition
  type Page<P> = import('@rt/server').HistoryPage<P>
  const hcs = defineContract({
    shared: {
      serverToClient: {
        news: { payload: z.object({ n: z.number() }), subscribe: true, history: { size: 10 } },
        plain: { payload: z.object({ n: z.number() }), subscribe: true },
      },
    },
    roles: {
      user: { serverToClient: { feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room: z.string() }), history: { size: 100 } } } },
    },
  })
  const hs = {} as Server<typeof hcs>

  it('resolves publish with the position for a history topic, with nothing for a plain one, and reads history', () => {
    expectTypeOf(hs.publish('news', { n: 1 })).toEqualTypeOf<Promise<Position>>()
    expectTypeOf(hs.publish('plain', { n: 1 })).toEqualTypeOf<Promise<void>>()
    expectTypeOf(hs.forRole('user').publish('feed', { text: 't' }, { room: 'r' })).toEqualTypeOf<Promise<Position>>()
    expectTypeOf(hs.history('news', { limit: 5 })).toEqualTypeOf<Promise<Page<{ n: number }>>>()
    expectTypeOf(hs.forRole('user').history('feed', { room: 'r' }, { since: { offset: 1, epoch: 'e' } })).toEqualTypeOf<Promise<Page<{ text: string }>>>()
    // @ts-expect-error params required
    void hs.forRole('user').history('feed')
    // @ts-expect-error a plain topic keeps no history
    void hs.history('plain')
  })
})
