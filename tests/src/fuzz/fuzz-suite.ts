import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { script, type Script } from './frames.js'
import { startGoodClient } from './good-client.js'
import { startFuzzServer, type FuzzServer, type ServerStats, type TransportKind } from './server-process.js'
import { runSession } from './session.js'
import { FUZZ_LIMITS, serverProblems } from './checks.js'

const hello = '{"t":"hello","v":1,"role":"user","auth":{"name":"fuzz"}}'
const text = (data: string) => ({ kind: 'text' as const, data })
/** The reproducers (issue 11 §1, §2), as named cases run before the random ones. */
export const KNOWN: Record<string, Script> = {
  'unsub whose stream key is a lone surrogate': { before: [], hello, pipelined: false, after: [text('{"t":"unsub","n":"news","k":"\\ud800"}')] },
  'the same, pipelined behind the hello (held during authentication)': { before: [], hello, pipelined: true, after: [text('{"t":"unsub","n":"news","k":"\\ud800"}')] },
  'a room name with a lone surrogate that passed z.string()': { before: [], hello, pipelined: false, after: [text('{"t":"call","id":1,"p":"join","d":{"room":"r\\ud800"}}')] },
  'a topic-params key with a lone surrogate': { before: [], hello, pipelined: false, after: [text('{"t":"sub","id":1,"n":"feed","q":{"\\udc00":1}}')] },
  'sub params 30 000 levels deep (canonical key)': { before: [], hello, pipelined: false, after: [text(`{"t":"sub","id":2,"n":"feed","q":{"x":${'['.repeat(30_000)}${']'.repeat(30_000)}}}`)] },
  'call input 30 000 levels deep (recursive schema)': { before: [], hello, pipelined: false, after: [text(`{"t":"call","id":3,"p":"json","d":${'['.repeat(30_000)}${']'.repeat(30_000)}}`)] },
  '__proto__ and constructor keys in input and params': {
    before: [],
    hello,
    pipelined: true,
    after: [
      text('{"t":"call","id":4,"p":"echo","d":{"__proto__":{"text":"x"},"text":"y"}}'),
      text('{"t":"sub","id":5,"n":"feed","q":{"__proto__":{"a":1},"constructor":{"prototype":{"b":2}}}}'),
      text('{"t":"call","id":6,"p":"constructor"}'),
      text('{"t":"sub","id":7,"n":"__proto__"}'),
    ],
  },
}

/**
 * Property-based fuzzing of one transport: random attacking connections, 1–3 at a time,
 * while a well-behaved client calls and receives broadcasts. RT_FUZZ_SEED replays a run;
 * RT_FUZZ_MS sets the time budget of the random part.
 */
export function describeFuzz(kind: TransportKind) {
  describe(`fuzzing the frame grammar over ${kind}`, () => {
    let srv: FuzzServer
    let good: Awaited<ReturnType<typeof startGoodClient>>
    let baseline: ServerStats
    const seed = Number(process.env.RT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const budgetMs = Number(process.env.RT_FUZZ_MS ?? 20_000)

    beforeAll(async () => {
      srv = await startFuzzServer(kind, FUZZ_LIMITS)
      good = await startGoodClient(srv.url)
      await srv.ticks(20)
      // Warm up (JIT, buffers) before the memory baseline.
      for (const s of fc.sample(script, { seed: 1, numRuns: 30 })) await runSession(srv.url, s)
      await until(async () => (await srv.stats()).connections === 1)
    })
    afterAll(async () => {
      await good?.[Symbol.asyncDispose]()
      await srv?.[Symbol.asyncDispose]()
    })

    for (const [name, s] of Object.entries(KNOWN)) {
      it(`survives ${name}`, async () => {
        const before = await srv.stats()
        // A call after it: the connection still answers (or was closed with a documented code).
        const r = await runSession(srv.url, { ...s, after: [...s.after, text('{"t":"call","id":99,"p":"echo","d":{"text":"after"}}')] })
        await sleep(50)
        const after = await srv.stats()
        expect([...serverProblems(before, after), ...r.problems]).toEqual([])
        expect(srv.exit).toBeUndefined()
      })
    }

    it('keeps no memory for calls whose deep input made the schema throw', async () => {
      const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`
      const before = await srv.gc()
      const calls = Array.from({ length: 10 }, (_, i) => text(`{"t":"call","id":${i},"p":"json","d":${deep}}`))
      for (let k = 0; k < 6; k++) {
        const r = await runSession(srv.url, { before: [], hello, pipelined: false, after: calls })
        expect(r.problems).toEqual([])
      }
      await until(async () => (await srv.stats()).connections === 1, 5_000, 'attackers gone')
      const after = await srv.gc()
      // 60 refused calls: anything they kept would show here (measured: ~340 KiB each when kept).
      expect(after.heapUsed - before.heapUsed).toBeLessThan(8 << 20)
    })

    it('answers every call and sub once, never INTERNAL, closes only with documented codes, and never throws', async () => {
      baseline = await srv.gc()
      let sessions = 0
      let frames = 0
      const property = fc.asyncProperty(fc.array(script, { minLength: 1, maxLength: 3 }), async (scripts) => {
        const before = await srv.stats()
        const results = await Promise.all(scripts.map((s) => runSession(srv.url, s)))
        sessions += results.length
        frames += results.reduce((n, r) => n + r.framesSent, 0)
        const after = await srv.stats()
        const problems = [...serverProblems(before, after), ...results.flatMap((r) => r.problems), ...good.problems.splice(0)]
        if (srv.exit) problems.push(`server process exited (${srv.exit.code ?? srv.exit.signal})`)
        if (problems.length > 0) throw new Error(`${problems.join('\n')}\n(replay: RT_FUZZ_SEED=${seed})`)
      })
      await fc.assert(property, {
        seed,
        numRuns: 1_000_000,
        interruptAfterTimeLimit: budgetMs,
        markInterruptAsFailure: false,
      })
      expect(sessions).toBeGreaterThan(10)
      expect(frames).toBeGreaterThan(0)
    }, 120_000)

    it('keeps the well-behaved client served throughout: every call answered, every broadcast and topic message in order', async () => {
      const seq = await srv.ticks(0)
      await until(() => good.last.tick === seq && good.last.news === seq && good.last.ticker === seq, 5_000, 'the last broadcast')
      await good.stop()
      expect(good.problems).toEqual([])
      expect(good.calls).toBeGreaterThan(10)
      expect(good.client.state).toBe('open')
      expect(srv.exit).toBeUndefined()
    })

    it('returns to its memory baseline once the attackers are gone', async () => {
      await until(async () => (await srv.stats()).connections === 1, 5_000, 'attackers gone')
      const after = await srv.gc()
      expect(after.heapUsed - baseline.heapUsed).toBeLessThan(24 << 20)
      expect(after.uncaught).toEqual([])
      expect(after.unhandled).toEqual([])
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
