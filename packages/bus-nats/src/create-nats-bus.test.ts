import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '@nats-io/transport-node'
import { decodeEnvelope, encodeEnvelope, fromPeers } from '@rt/contract/internal'
import { freePort, startNatsServer, type NatsServer } from '../../../tests/src/nats/nats-server.js'
import { createNatsBus, type NatsBus } from './create-nats-bus.js'

const text = (s: string) => new TextEncoder().encode(s)
const str = (d: Uint8Array) => new TextDecoder().decode(d)
const prefix = () => `u${randomBytes(4).toString('hex')}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(ok: () => boolean, what: string, ms = 10_000) {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

let server: NatsServer
beforeAll(async () => {
  server = await startNatsServer()
})
afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
})

const open: NatsBus[] = []
const bus = (options: Partial<Parameters<typeof createNatsBus>[0]> & { prefix: string }) => {
  const b = createNatsBus({ servers: server.url, onError: (e) => { throw e }, ...options } as Parameters<typeof createNatsBus>[0])
  open.push(b)
  return b
}
afterAll(async () => {
  await Promise.all(open.map((b) => b.close()))
})

describe('createNatsBus: echoes', () => {
  it('delivers its own publishes to its own subscriptions, like every bus; fromPeers is what drops them', async () => {
    const p = prefix()
    const a = bus({ prefix: p })
    const b = bus({ prefix: p })
    const rawA: string[] = []
    const peersOfA: string[] = []
    a.subscribe('e', (d) => void rawA.push(decodeEnvelope(d)!.frame as string))
    a.subscribe('e', fromPeers('a', decodeEnvelope, (env) => void peersOfA.push(`${env.origin}:${env.frame as string}`)))
    await Promise.all([a.flush(), b.flush()])
    a.publish('e', encodeEnvelope('a', '', 'mine'))
    b.publish('e', encodeEnvelope('b', '', 'theirs'))
    await until(() => rawA.length === 2 && peersOfA.length === 1, 'deliveries')
    await a.flush()
    expect(rawA.sort()).toEqual(['mine', 'theirs'])
    expect(peersOfA).toEqual(['b:theirs'])
  })

  it('works on a connection made with noEcho: @rt never needs its own messages back, so it is spared the traffic', async () => {
    const p = prefix()
    const nc = await connect({ servers: server.url, noEcho: true })
    try {
      const quiet = createNatsBus({ connection: nc, prefix: p, onError: (e) => { throw e } })
      const peer = bus({ prefix: p })
      const atQuiet: string[] = []
      const atPeer: string[] = []
      quiet.subscribe('q', (d) => void atQuiet.push(str(d)))
      peer.subscribe('q', (d) => void atPeer.push(str(d)))
      await Promise.all([quiet.flush(), peer.flush()])
      quiet.publish('q', text('from quiet'))
      peer.publish('q', text('from peer'))
      await until(() => atQuiet.length === 1 && atPeer.length === 2, 'deliveries')
      await Promise.all([quiet.flush(), peer.flush()])
      expect(atQuiet).toEqual(['from peer'])
      expect(atPeer.sort()).toEqual(['from peer', 'from quiet'])
      await quiet.close()
    } finally {
      await nc.close()
    }
  })
})

describe('createNatsBus: before the first connection', () => {
  it('applies queued subscribes, unsubscribes and publishes in call order once connected', async () => {
    const port = await freePort()
    const p = prefix()
    const early = createNatsBus({ servers: `nats://127.0.0.1:${port}`, prefix: p, reconnectTimeWaitMs: 20, onError: () => {} })
    open.push(early)
    const got: string[] = []
    const gone: string[] = []
    early.publish('o', text('before any subscribe')) // NATS order: no subscription sees this
    early.subscribe('o', (d) => void got.push(str(d)))
    const dropped = early.subscribe('o', (d) => void gone.push(str(d)))
    dropped.unsubscribe() // never reaches the server
    early.publish('o', text('1'))
    early.publish('o', text('2'))
    expect(early.status).toBe('reconnecting')
    await using late = await startNatsServer({ port })
    await early.flush()
    await until(() => got.length === 2, 'queued deliveries')
    await early.flush()
    expect(got).toEqual(['1', '2'])
    expect(gone).toEqual([])
    expect(late.port).toBe(port)
  })

  it('keeps at most 16 MiB of queued publishes, reports the overflow once, and delivers what it kept', async () => {
    const port = await freePort()
    const errors: unknown[] = []
    const early = createNatsBus({ servers: `nats://127.0.0.1:${port}`, prefix: prefix(), reconnectTimeWaitMs: 20, onError: (e) => void errors.push(e) })
    open.push(early)
    const sizes: number[] = []
    early.subscribe('big', (d) => void sizes.push(d.byteLength))
    const MB = 1_000_000
    for (let i = 0; i < 18; i++) early.publish('big', new Uint8Array(MB)) // 16 fit under 16 MiB
    early.publish('big', new Uint8Array(10)) // still room for a small one
    await using late = await startNatsServer({ port })
    await early.flush()
    await until(() => sizes.length === 17, 'kept deliveries')
    await early.flush()
    expect(sizes).toEqual([...Array<number>(16).fill(MB), 10])
    const cannotReach = errors.filter((e) => (e as Error).message.includes('cannot reach'))
    const overflow = errors.filter((e) => !cannotReach.includes(e))
    expect(overflow).toEqual([expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringContaining('queue full') })])
    expect(late.port).toBe(port)
  })

  it('closes cleanly before ever connecting, and refuses use afterwards', async () => {
    const port = await freePort()
    const early = createNatsBus({ servers: `nats://127.0.0.1:${port}`, prefix: prefix(), reconnectTimeWaitMs: 20, onError: () => {} })
    early.publish('x', text('never sent'))
    await early.close()
    expect(early.status).toBe('closed')
    expect(() => early.publish('x', text('y'))).toThrow(/closed/)
    expect(() => early.subscribe('x', () => {})).toThrow(/closed/)
    await early.flush() // resolves: nothing to flush
  })
})
