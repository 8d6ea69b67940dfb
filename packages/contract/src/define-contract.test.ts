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
    expect(() =>
      defineContract({ roles: { user: { serverToClient: { t: { payload: z.string(), subscribe: true, history: { size: 10 } } } } } } as never),
    ).toThrow(/topic history is not supported by this release/)
    expect(() => defineContract({ roles: { shared: {} } })).toThrow(/reserved/)
  })
})
