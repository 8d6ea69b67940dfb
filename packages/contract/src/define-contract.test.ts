import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineContract } from './define-contract.js'
import { indexContract } from './role-view.js'

const ping = { input: z.object({}), output: z.object({ at: z.number() }) }

describe('defineContract', () => {
  it('returns the contract as plain data and indexes each role with shared', () => {
    const c = defineContract({
      shared: { clientToServer: { ping }, serverToClient: { news: { payload: z.string(), subscribe: true } } },
      roles: {
        user: { serverToClient: { message: { payload: z.string() }, ticker: { payload: z.number(), subscribe: true, params: z.object({ s: z.string() }) } } },
        agent: { clientToServer: { reply: ping } },
      },
    })
    expect(Object.isFrozen(c)).toBe(true)
    const { roles, shared } = indexContract(c)
    expect([...roles.keys()]).toEqual(['user', 'agent'])
    expect([...roles.get('user')!.procedures.keys()]).toEqual(['ping'])
    expect([...roles.get('user')!.events.keys()]).toEqual(['message'])
    expect([...roles.get('user')!.topics.keys()]).toEqual(['news', 'ticker'])
    expect([...roles.get('agent')!.procedures.keys()]).toEqual(['ping', 'reply'])
    expect([...roles.get('agent')!.events.keys()]).toEqual([])
    expect([...shared.topics.keys()]).toEqual(['news'])
  })

  it('rejects a name declared twice in one role vocabulary, naming both places', () => {
    expect(() =>
      defineContract({ shared: { clientToServer: { ping } }, roles: { user: { clientToServer: { ping } } } } as never),
    ).toThrow('"ping" is declared twice in role "user": in shared.clientToServer and in roles.user.clientToServer')
    expect(() =>
      defineContract({
        shared: { serverToClient: { m: { payload: z.string() } } },
        roles: { agent: { serverToClient: { m: { payload: z.string(), subscribe: true } } } },
      } as never),
    ).toThrow(/"m" is declared twice in role "agent"/)
  })

  it('rejects malformed declarations with a clear message', () => {
    expect(() => defineContract({ roles: {} })).toThrow(/at least one role/)
    expect(() => defineContract({ roles: { user: { clientToServer: { p: { input: z.string() } } } } } as never)).toThrow(
      'roles.user.clientToServer.p needs an `input` and an `output` schema',
    )
    expect(() => defineContract({ roles: { user: { serverToClient: { e: { payload: 'x' } } } } } as never)).toThrow(/needs a `payload` schema/)
    expect(() => defineContract({ roles: { user: { serverToClient: { e: { payload: z.string(), params: z.string() } } } } } as never)).toThrow(
      /has params but is not a topic/,
    )
    expect(() => defineContract({ roles: { shared: {} } })).toThrow(/reserved/)
  })

  it('accepts history on a topic: size 1 … 10 000, ttlMs an optional positive integer', () => {
    const c = defineContract({
      roles: {
        user: {
          serverToClient: {
            feed: { payload: z.string(), subscribe: true, params: z.object({ room: z.string() }), history: { size: 200, ttlMs: 600_000 } },
            tiny: { payload: z.string(), subscribe: true, history: { size: 1 } },
            big: { payload: z.string(), subscribe: true, history: { size: 10_000 } },
          },
        },
      },
    })
    expect(indexContract(c).roles.get('user')!.topics.get('feed')!.history).toEqual({ size: 200, ttlMs: 600_000 })
  })

  it('rejects a malformed history, and history on an event', () => {
    const topic = (history: unknown) => () =>
      defineContract({ roles: { user: { serverToClient: { t: { payload: z.string(), subscribe: true, history } } } } } as never)
    for (const size of [0, -1, 1.5, 10_001, '10', Number.NaN, undefined]) {
      expect(topic({ size }), String(size)).toThrow('roles.user.serverToClient.t.history.size must be an integer from 1 to 10000')
    }
    for (const ttlMs of [0, -5, 2.5, '1000', Number.POSITIVE_INFINITY, null]) {
      expect(topic({ size: 5, ttlMs }), String(ttlMs)).toThrow('roles.user.serverToClient.t.history.ttlMs must be a positive integer')
    }
    expect(topic(5)).toThrow('history must be { size, ttlMs? }')
    expect(topic(null)).toThrow('history must be { size, ttlMs? }')
    expect(() =>
      defineContract({ roles: { user: { serverToClient: { e: { payload: z.string(), history: { size: 5 } } } } } } as never),
    ).toThrow('roles.user.serverToClient.e has history but is not a topic (subscribe: true)')
  })
})
