import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BadInput, connectionQuery, disconnectBody, noQuery } from './params.js'

describe('request input', () => {
  it('reads the connection filters and limit', () => {
    expect(connectionQuery('')).toEqual({ limit: 100 })
    expect(connectionQuery('node=n1&role=user&user=ann&room=lobby&limit=5')).toEqual({ nodeId: 'n1', role: 'user', userId: 'ann', room: 'lobby', limit: 5 })
    for (const bad of ['limit=0', 'limit=1001', 'limit=1e3', 'limit=', 'limit=-1', 'user=', 'user=a&user=b', 'foo=1', `room=${'x'.repeat(257)}`]) {
      expect(() => connectionQuery(bad), bad).toThrow(BadInput)
    }
    expect(() => noQuery('a=1')).toThrow(/unknown query parameter "a"/)
    expect(disconnectBody('{"connId":"n1.x"}')).toEqual({ connId: 'n1.x' })
    for (const bad of ['', 'null', '5', '{"connId":5}', '{"connId":""}', '[]']) expect(() => disconnectBody(bad), bad).toThrow(BadInput)
  })

  it('refuses with a 4xx, or accepts, whatever the query and body (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (query, body) => {
        for (const f of [() => connectionQuery(query), () => disconnectBody(body), () => noQuery(query)]) {
          try {
            f()
          } catch (e) {
            expect(e).toBeInstanceOf(BadInput)
            expect((e as BadInput).status).toBeGreaterThanOrEqual(400)
            expect((e as BadInput).message.length).toBeLessThan(200)
          }
        }
      }),
      { numRuns: 2_000 },
    )
  })
})
