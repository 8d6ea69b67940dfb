// Property-based fuzzing of the refresh frames: attacking connections whose credentials expire
// (or not) send `auth` frames of every shape, while a typed client keeps refreshing its own.
// RT_FUZZ_SEED replays a run; RT_FUZZ_REFRESH_MS sets the time budget per transport.
import WebSocket from 'ws'
import fc from 'fast-check'
import { createClient } from '@rt/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FUZZ_LIMITS, serverProblems } from './checks.js'
import { authFrameText, wireFrame, type Script, type WireFrame } from './frames.js'
import { fuzzContract } from './fuzz-contract.js'
import { startFuzzServer, type FuzzServer, type TransportKind } from './server-process.js'
import { runSession } from './session.js'

const hello = (auth: object) => JSON.stringify({ t: 'hello', v: 1, role: 'user', auth })
const script: fc.Arbitrary<Script> = fc.record({
  before: fc.constant([]),
  hello: fc.constantFrom(hello({ name: 'fuzz', ttlMs: 300 }), hello({ name: 'fuzz', ttlMs: 60_000 }), hello({ name: 'fuzz' })),
  pipelined: fc.boolean(),
  after: fc.array(
    fc.oneof({ weight: 4, arbitrary: authFrameText.map((data): WireFrame => ({ kind: 'text', data })) }, { weight: 1, arbitrary: wireFrame }),
    { minLength: 1, maxLength: 8 },
  ),
})

function describeRefreshFuzz(kind: TransportKind) {
  describe(`fuzzing the refresh frames over ${kind}`, () => {
    let srv: FuzzServer
    const seed = Number(process.env.RT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const budgetMs = Number(process.env.RT_FUZZ_REFRESH_MS ?? 2_000)
    beforeAll(async () => {
      srv = await startFuzzServer(kind, FUZZ_LIMITS)
    })
    afterAll(async () => {
      await srv?.[Symbol.asyncDispose]()
    })

    it('answers every auth frame once or closes with a documented code, never crashes, and keeps a refreshing client open', async () => {
      const keeperProblems: string[] = []
      let refreshes = 0
      const keeper = createClient(fuzzContract, {
        url: srv.url,
        role: 'user',
        WebSocket,
        reconnect: false,
        auth: () => (refreshes++, { name: 'keeper', ttlMs: 300 }),
      })
      await keeper.ready()
      keeper.onStateChange((c) => keeperProblems.push(`keeper became ${c.state} (${c.code ?? ''} ${c.reason ?? ''})`))
      let sessions = 0
      // The run the time limit interrupts goes on: it must end before the server is disposed.
      let last: Promise<unknown> = Promise.resolve()
      const property = fc.asyncProperty(fc.array(script, { minLength: 1, maxLength: 3 }), (scripts) => {
        const run = check(scripts)
        last = run.catch(() => {})
        return run
      })
      const check = async (scripts: Script[]) => {
        const before = await srv.stats()
        const results = await Promise.all(scripts.map((s) => runSession(srv.url, s)))
        sessions += results.length
        const problems = [...serverProblems(before, await srv.stats()), ...results.flatMap((r) => r.problems), ...keeperProblems.splice(0)]
        if (srv.exit) problems.push(`server process exited (${srv.exit.code ?? srv.exit.signal})`)
        if (problems.length > 0) throw new Error(`${problems.join('\n')}\n(replay: RT_FUZZ_SEED=${seed})`)
      }
      await fc.assert(property, { seed, numRuns: 1_000_000, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false })
      await last
      expect(sessions).toBeGreaterThan(3)
      // The keeper refreshed all along (its first call is the hello) and is still served.
      expect(refreshes).toBeGreaterThan(2)
      expect(await keeper.call.echo({ text: 'still here' })).toEqual({ text: 'still here' })
      expect(keeperProblems).toEqual([])
      await keeper.close()
    }, 60_000)
  })
}

describeRefreshFuzz('ws')
describeRefreshFuzz('uws')
