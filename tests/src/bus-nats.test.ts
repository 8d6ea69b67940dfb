import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { connect } from '@nats-io/transport-node'
import type { BusStatus } from '@rt/contract'
import { createNatsBus, type NatsBus } from '@rt/bus-nats'
import { sleep, until } from './harness.js'
import { freePort, startNatsCluster, startNatsServer, type NatsCluster } from './nats/nats-server.js'
import { describeBus } from './suites/bus.js'

const text = (s: string) => new TextEncoder().encode(s)
const str = (d: Uint8Array) => new TextDecoder().decode(d)
const uniquePrefix = () => `t${randomBytes(4).toString('hex')}`

/** Errors reported by buses; tests that expect some take theirs out. */
const reported: unknown[] = []
const onError = (e: unknown) => void reported.push(e)

let shared: Promise<NatsCluster> | undefined
const cluster = () => (shared ??= startNatsCluster(3))
afterAll(async () => {
  if (shared) await (await shared)[Symbol.asyncDispose]()
})

// Three buses, each on a different server of one cluster: every delivery crosses a route.
describeBus('nats (3-server cluster)', async () => {
  const { urls } = await cluster()
  const prefix = uniquePrefix()
  const buses = urls.map((servers) => createNatsBus({ servers, prefix, onError, reconnectTimeWaitMs: 100 }))
  return { buses, cleanup: async () => void (await Promise.all(buses.map((b) => b.close()))) }
})

/** Waits until a bus on `to` hears what `from` publishes on `subject` (interest propagated). */
async function hear(from: NatsBus, to: NatsBus, subject: string, got: () => number) {
  const before = got()
  await until(
    async () => {
      from.publish(subject, text('probe'))
      await sleep(20)
      return got() > before
    },
    10_000,
    `${subject} to flow`,
  )
}

describe('nats bus', () => {
  it('reports handler throws to onError', async () => {
    const { urls } = await cluster()
    const errors: unknown[] = []
    await using bus = disposable(createNatsBus({ servers: urls[0]!, prefix: uniquePrefix(), onError: (e) => errors.push(e) }))
    const boom = new Error('boom')
    bus.subscribe('x', () => {
      throw boom
    })
    bus.publish('x', text('1'))
    await until(() => errors.length === 1, 10_000, 'error report')
    expect(errors[0]).toBe(boom)
  })

  it('keeps apps with different prefixes apart on one server', async () => {
    const { urls } = await cluster()
    const [pa, pb] = [uniquePrefix(), uniquePrefix()]
    // One publishing connection for both prefixes: its messages reach each subscriber in order.
    const nc = await connect({ servers: urls[0]! })
    const pubA = createNatsBus({ connection: nc, prefix: pa, onError })
    const pubB = createNatsBus({ connection: nc, prefix: pb, onError })
    await using subA = disposable(createNatsBus({ servers: urls[0]!, prefix: pa, onError }))
    await using subB = disposable(createNatsBus({ servers: urls[0]!, prefix: pb, onError }))
    const gotA: string[] = []
    const gotB: string[] = []
    subA.subscribe('>', (d, s) => gotA.push(`${s}=${str(d)}`))
    subB.subscribe('>', (d, s) => gotB.push(`${s}=${str(d)}`))
    await Promise.all([subA.flush(), subB.flush()])
    pubA.publish('x.y', text('for a'))
    pubB.publish('x.y', text('for b'))
    pubA.publish('end', text('a'))
    pubB.publish('end', text('b'))
    await until(() => gotA.length >= 2 && gotB.length >= 2, 10_000, 'deliveries')
    expect(gotA).toEqual(['x.y=for a', 'end=a'])
    expect(gotB).toEqual(['x.y=for b', 'end=b'])
    await Promise.all([pubA.close(), pubB.close()])
    await nc.close()
  })

  it('leaves a given connection open on close(), dropping only its own subscriptions', async () => {
    const { urls } = await cluster()
    const nc = await connect({ servers: urls[1]! })
    try {
      const bus = createNatsBus({ connection: nc, prefix: 'given', onError })
      expect(bus.status).toBe('connected')
      const statuses: BusStatus[] = []
      bus.onStatus((s) => statuses.push(s))
      const viaBus: string[] = []
      bus.subscribe('a', (d) => viaBus.push(str(d)))
      const raw: string[] = []
      nc.subscribe('given.a', { callback: (_e, m) => void raw.push(m.string()) })
      bus.publish('a', text('1'))
      await until(() => viaBus.length === 1 && raw.length === 1, 10_000, 'delivery')
      await bus.close()
      await bus.close()
      expect(nc.isClosed()).toBe(false)
      expect(bus.status).toBe('closed')
      expect(statuses).toEqual(['closed'])
      nc.publish('given.a', '2')
      await until(() => raw.length === 2, 10_000, 'raw delivery after bus close')
      await nc.flush()
      expect(viaBus).toEqual(['1'])
      expect(raw).toEqual(['1', '2'])
    } finally {
      await nc.close()
    }
  })

  it('queues publishes and subscriptions made before NATS is reachable, in order', async () => {
    const port = await freePort()
    const bus = createNatsBus({ servers: `nats://127.0.0.1:${port}`, prefix: uniquePrefix(), reconnectTimeWaitMs: 50, onError: () => {} })
    await using _ = disposable(bus)
    const got: string[] = []
    bus.subscribe('q', (d) => got.push(str(d)))
    for (const s of ['1', '2', '3']) bus.publish('q', text(s))
    const flushed = bus.flush()
    expect(bus.status).toBe('reconnecting')
    await sleep(200) // a few failed attempts
    await using server = await startNatsServer({ port })
    await flushed
    expect(bus.status).toBe('connected')
    await until(() => got.length === 3, 10_000, 'queued deliveries')
    expect(got).toEqual(['1', '2', '3'])
    expect(server.port).toBe(port)
  })

  it('reports an over-size publish instead of throwing, and keeps working', async () => {
    await using server = await startNatsServer({ maxPayload: 1_024 })
    const errors: unknown[] = []
    await using bus = disposable(createNatsBus({ servers: server.url, prefix: uniquePrefix(), onError: (e) => errors.push(e) }))
    const got: number[] = []
    bus.subscribe('big', (d) => got.push(d.byteLength))
    await bus.flush() // connected: the server's max_payload is known
    expect(() => bus.publish('big', new Uint8Array(2_048))).not.toThrow()
    bus.publish('big', new Uint8Array(10))
    await until(() => got.length === 1, 10_000, 'small delivery')
    expect(got).toEqual([10])
    expect(errors).toHaveLength(1)
  })

  it('closes without hanging while NATS is down, and rejects a flush the link cannot honour', async () => {
    await using server = await startNatsServer()
    const bus = createNatsBus({ servers: server.url, prefix: uniquePrefix(), reconnectTimeWaitMs: 50, onError: () => {} })
    await bus.flush()
    await server.kill()
    await until(() => bus.status === 'reconnecting', 10_000, 'reconnecting')
    bus.publish('dropped', text('x')) // dropped, not thrown
    await expect(bus.flush()).rejects.toMatchObject({ code: 'CONNECTION_LOST' })
    await bus.close()
    expect(bus.status).toBe('closed')
  })

  it('survives a restart of its only server: reconnecting, connected, subscriptions restored', async () => {
    await using server = await startNatsServer()
    const prefix = uniquePrefix()
    await using a = disposable(createNatsBus({ servers: server.url, prefix, reconnectTimeWaitMs: 50, onError }))
    await using b = disposable(createNatsBus({ servers: server.url, prefix, reconnectTimeWaitMs: 50, onError }))
    const got: string[] = []
    a.subscribe('r', (d) => got.push(str(d)))
    await hear(b, a, 'r', () => got.length)
    const statuses: BusStatus[] = []
    a.onStatus((s) => statuses.push(s))
    await server.kill()
    await until(() => a.status === 'reconnecting', 10_000, 'reconnecting')
    await server.restart()
    await until(() => a.status === 'connected' && b.status === 'connected', 10_000, 'reconnected')
    expect(statuses).toEqual(['reconnecting', 'connected'])
    await hear(b, a, 'r', () => got.length) // a's subscription was restored on the new server
  })

  it('rides out a SIGKILL of its cluster server mid-stream, restarted on the same port', async () => {
    await using c = await startNatsCluster(3)
    const prefix = uniquePrefix()
    await using victim = disposable(createNatsBus({ servers: c.urls[1]!, prefix, reconnectTimeWaitMs: 50, onError }))
    await using peer = disposable(createNatsBus({ servers: c.urls[0]!, prefix, reconnectTimeWaitMs: 50, onError }))
    const atVictim: string[] = []
    const atPeer: number[] = []
    victim.subscribe('in', (d) => atVictim.push(str(d)))
    peer.subscribe('out', (d) => atPeer.push(new DataView(d.buffer, d.byteOffset).getUint32(0)))
    await hear(peer, victim, 'in', () => atVictim.length)
    const statuses: BusStatus[] = []
    victim.onStatus((s) => statuses.push(s))

    // A steady stream from the victim's bus while its server dies and comes back.
    let seq = 0
    const stream = setInterval(() => {
      const m = new Uint8Array(4)
      new DataView(m.buffer).setUint32(0, seq++)
      victim.publish('out', m)
    }, 2)
    try {
      await until(() => atPeer.length > 50, 10_000, 'stream flowing')
      await c.servers[1]!.kill()
      await until(() => statuses.includes('reconnecting'), 10_000, 'reconnecting')
      await c.servers[1]!.restart()
      await c.routed()
      await until(() => statuses.at(-1) === 'connected' && victim.status === 'connected', 10_000, 'reconnected')
      const afterReconnect = seq
      await until(() => atPeer.some((n) => n >= afterReconnect), 10_000, 'stream flowing again')
    } finally {
      clearInterval(stream)
    }
    expect(statuses[0]).toBe('reconnecting')
    expect(statuses.at(-1)).toBe('connected')
    // At-most-once: gaps are allowed during the outage, reordering is not.
    expect(atPeer.every((n, i) => i === 0 || n > atPeer[i - 1]!)).toBe(true)
    await hear(peer, victim, 'in', () => atVictim.length) // and the other way round
  })
})

afterAll(() => {
  // Handler throws come from the conformance suite on purpose; anything else is a bus fault.
  const unexpected = reported.filter((e) => !String((e as Error)?.message).includes('expected in this test') && (e as Error)?.message !== 'boom')
  expect(unexpected).toEqual([])
})

function disposable<T extends NatsBus>(bus: T): T & { [Symbol.asyncDispose](): Promise<void> } {
  return Object.assign(bus, { [Symbol.asyncDispose]: () => bus.close() })
}
