// The trace carrier of a call frame (`tc`) is client-controlled: fuzzed here against a real
// server with tracing on (so the propagator reads every carrier that passes the check).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { startServer, wsTransport } from './harness.js'
import { rawSocket } from './raw.js'
import { registerOtelSdk } from './telemetry/otel-sdk.js'

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`))
const traceparent = fc.tuple(hex(32), hex(16)).map(([t, s]) => `00-${t}-${s}-01`)
const carrier = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(fc.string({ maxLength: 80 }), fc.oneof(fc.string({ maxLength: 2_000 }), fc.jsonValue()), { maxKeys: 12 }),
  fc.record({ traceparent: fc.oneof(traceparent, fc.string()), tracestate: fc.string({ maxLength: 1_100 }), baggage: fc.string() }, { requiredKeys: [] }),
)

describe('the trace carrier of a call frame (fuzzed)', () => {
  const sdk = registerOtelSdk()

  it('never costs the call, the connection or the server: a bad carrier is ignored, a good one parents the span', async () => {
    await using s = await startServer(wsTransport, { limits: { rateBurst: 1e6, ratePerSecond: 1e6 } })
    await using raw = await rawSocket(s.url)
    await raw.hello()
    let id = 0
    const known = ['{"__proto__":{"traceparent":"x"}}', '{"traceparent":"00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01"}', '"' + 'x'.repeat(100_000) + '"', '[1,2]', 'null']
    for (const tc of known) {
      raw.send(`{"t":"call","id":${++id},"p":"echo","d":{"text":"k"},"tc":${tc}}`)
      expect(await raw.next((f) => f.id === id)).toEqual({ t: 'result', id, d: { text: 'k' } })
    }
    await fc.assert(
      fc.asyncProperty(carrier, async (tc) => {
        const n = ++id
        raw.send({ t: 'call', id: n, p: 'echo', d: { text: 'x' }, tc })
        expect(await raw.next((f) => f.id === n)).toEqual({ t: 'result', id: n, d: { text: 'x' } })
      }),
      { numRuns: 300 },
    )
    const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    raw.send({ t: 'call', id: ++id, p: 'echo', d: { text: 'p' }, tc: { traceparent: valid } })
    await raw.next((f) => f.id === id)
    expect(raw.isClosed).toBe(false)
    expect(s.errors).toEqual([])
    const spans = (await sdk.spans()).filter((sp) => sp.kind === 1)
    expect(spans.length).toBe(id)
    expect(spans.at(-1)!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(spans.at(-1)!.parentSpanContext?.spanId).toBe('b7ad6b7169203331')
  })
})
