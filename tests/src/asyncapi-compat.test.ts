// check-compat over generated contracts: a contract against an equal one (built separately, as
// two files are loaded) never breaks, and widening an input or narrowing an output never breaks.
import { checkCompat } from '@rt/asyncapi'
import { defineContract } from '@rt/contract'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import * as z from 'zod'
import { build, buildContract, contractSpecArb, mutationOf, specArb, valueOf } from './asyncapi-fixtures.js'

it('a contract checked against itself reports no change at all', () => {
  fc.assert(
    fc.property(contractSpecArb, (spec) => {
      expect(checkCompat(buildContract(spec), buildContract(spec)).changes).toEqual([])
    }),
    { numRuns: 300 },
  )
})

const proc = (input: z.ZodType, output: z.ZodType) => defineContract({ roles: { user: { clientToServer: { p: { input, output } } } } })

it('an input made optional or joined in a union with another schema never breaks', () => {
  fc.assert(
    fc.property(specArb, specArb, (s, t) => {
      const out = z.object({})
      const before = proc(build(s), out)
      for (const after of [proc(build(s).optional(), out), proc(z.union([build(s), build(t)]), out), proc(build(s).nullable(), out)]) {
        const r = checkCompat(before, after)
        expect(r.changes.filter((c) => c.severity === 'breaking'), JSON.stringify(r.changes)).toEqual([])
      }
    }),
    { numRuns: 300 },
  )
})

it('an output narrowed to one member of a union never breaks', () => {
  fc.assert(
    fc.property(specArb, specArb, (s, t) => {
      const r = checkCompat(proc(z.object({}), z.union([build(s), build(t)])), proc(z.object({}), build(s)))
      expect(r.changes.filter((c) => c.severity === 'breaking'), JSON.stringify(r.changes)).toEqual([])
    }),
    { numRuns: 300 },
  )
})

// Soundness: when the checker finds nothing unsafe, the new schema takes every value the old one
// took. Values are drawn from the old schema's shape; objects carry only their declared fields,
// which is what the checker assumes (as documented) of a client built against the contract.
it('never calls a change safe when some value the old schema took is refused by the new one', { timeout: 60_000 }, () => {
  const pair = specArb.chain((s) => fc.tuple(fc.constant(s), mutationOf(s), fc.array(valueOf(s), { minLength: 10, maxLength: 10 })))
  let checked = 0
  fc.assert(
    fc.property(pair, ([s, t, values]) => {
      const [a, b] = [build(s), build(t)]
      if (checkCompat(proc(a, z.object({})), proc(b, z.object({}))).changes.some((c) => c.severity !== 'safe')) return
      for (const v of values) {
        if (!a.safeParse(v).success) continue
        checked++
        expect(b.safeParse(v).success, `${JSON.stringify(v)}`).toBe(true)
      }
    }),
    { numRuns: 800 },
  )
  expect(checked).toBeGreaterThan(300)
})
