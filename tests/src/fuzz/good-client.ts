// The well-behaved client that runs while the fuzzer attacks: every call must succeed, every
// room broadcast and topic message must arrive once, in order, and its link must never drop.
import WebSocket from 'ws'
import { createClient } from '@rt/client'
import { fuzzContract } from './fuzz-contract.js'

export async function startGoodClient(url: string, name = 'good') {
  const client = createClient(fuzzContract, { url, role: 'user', auth: { name }, WebSocket, reconnect: false, callTimeoutMs: 10_000 })
  const problems: string[] = []
  const last = { tick: 0, news: 0, ticker: 0 }
  const inOrder = (what: keyof typeof last, seq: number) => {
    if (last[what] !== 0 && seq !== last[what] + 1) problems.push(`${what}: got ${seq} after ${last[what]}`)
    last[what] = seq
  }
  await client.ready()
  // Open from here on: any change is the link dropping.
  client.onStateChange((c) => problems.push(`state became ${c.state} (${c.code ?? ''} ${c.reason ?? ''})`))
  client.on('tick', ({ seq }) => inOrder('tick', seq))
  await client.subscribe('news', ({ seq }) => inOrder('news', seq)).ready
  await client.subscribe('ticker', { symbol: 'GOOD' }, ({ price }) => inOrder('ticker', price)).ready
  let calls = 0
  let running = true
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        const [e, j] = await Promise.all([client.call.echo({ text: `good ${i}`, n: i }), client.call.json({ i, deep: [[{ a: 1 }]] })])
        if (e.text !== `good ${i}` || e.n !== i || j.type !== 'object') problems.push(`wrong answer ${JSON.stringify([e, j])}`)
        calls += 2
      } catch (err) {
        problems.push(`call failed: ${String(err)}`)
        return
      }
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  return {
    client,
    problems,
    last,
    get calls() {
      return calls
    },
    /** Stops calling; then the caller waits for the last broadcast with `last`. */
    async stop() {
      running = false
      await loop
    },
    async [Symbol.asyncDispose]() {
      running = false
      await loop
      problems.length = 0
      await client.close()
    },
  }
}
