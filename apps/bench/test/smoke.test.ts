// Runs the whole benchmark harness at a tiny size: every contender must deliver every message
// to every socket (exact counts, in order) and answer every RPC. No timing is asserted.
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CONTENDERS } from '../src/harness/contenders.js'
import type { BenchResults } from '../src/harness/results.js'
import { runBench } from '../src/harness/run-bench.js'
import { SIZES } from '../src/harness/sizes.js'
import { STORM_SIZES, runStorm } from '../src/storm/run-storm.js'
import { HISTORY_SIZES, runHistory } from '../src/history/run-history.js'
import { CHURN_SIZES, churnContenders, runChurn } from '../src/churn/run-churn.js'
import { LARGE_SIZES, runLarge } from '../src/large/run-large.js'
import { PARTS_SIZES, RPC_PARTS, SETUP_PARTS, runParts } from '../src/parts/run-parts.js'
import { Child, killAll } from '../src/harness/proc.js'

const sizes = SIZES.smoke
const haveRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some(existsSync)
const haveNats = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].some(existsSync)

describe('benchmark harness (smoke size)', () => {
  let results: BenchResults
  const lines: string[] = []

  it(
    'runs every contender and scenario',
    async () => {
      results = await runBench({ sizes, command: 'smoke test', log: (l) => lines.push(l) })
      expect(results.contenders.map((c) => c.id)).toEqual(CONTENDERS.map((c) => c.id))
    },
    60_000,
  )

  for (const c of CONTENDERS) {
    it(`${c.label}: every socket gets every message, every call its answer`, () => {
      const r = results.contenders.find((x) => x.id === c.id)!
      expect(r.errors, lines.join('\n')).toEqual([])
      expect(r.connect?.ready).toBe(sizes.bigN)
      for (const f of [r.fanoutBig!, r.fanoutSmall!]) {
        expect(f.delivered).toBe(f.n * f.messages)
        expect(f.expected).toBe(sizes.bigN * sizes.bigM)
        expect(f.outOfOrder).toBe(0)
        expect(f.complete).toBe(true)
      }
      const calls = sizes.rpc.clients * sizes.rpc.callsPerSocket!
      expect(r.rpc).toMatchObject({ clients: sizes.rpc.clients, total: calls, answered: calls, errors: 0 })
    })
  }

  for (const c of CONTENDERS.filter((x) => x.cluster)) {
    it(`${c.label}: cross-node fan-out delivers every message on ${sizes.cluster!.nodes} nodes`, () => {
      // Never skipped: scripts/ensure-system-deps.sh installs both programs.
      expect(c.id === 'sio' ? haveRedis : haveNats, `${c.id === 'sio' ? 'redis-server' : 'nats-server'} is not installed`).toBe(true)
      const r = results.cluster.find((x) => x.id === c.id)!
      expect(r.errors, lines.join('\n')).toEqual([])
      for (const f of [r.single!, r.cluster!]) {
        expect(f.delivered).toBe(sizes.cluster!.n * sizes.cluster!.m)
        expect(f.complete).toBe(true)
      }
      // The latency phase: every paced tick reaches every socket too, on 1 node and on the cluster.
      for (const f of [r.singlePaced!, r.clusterPaced!]) {
        expect(f.messages).toBeGreaterThanOrEqual(2)
        expect(f.delivered).toBe(sizes.cluster!.n * f.messages)
        expect(f.complete).toBe(true)
      }
    })
  }
})

describe('reconnect storm (smoke size)', () => {
  const storm = STORM_SIZES.smoke
  for (const variant of ['graceful', 'sigkill'] as const) {
    it(
      `${variant === 'graceful' ? 'srv.close()' : 'SIGKILL'}: every client retries while the node is down and is open again on the restarted node`,
      async () => {
        const lines: string[] = []
        const r = await runStorm(storm, variant, { log: (l) => lines.push(l) })
        expect(r.errors, lines.join('\n')).toEqual([])
        expect(r.reopened).toBe(storm.clients)
        // And every client got a topic publication after the restart: its subscription was restored.
        expect(r.resubscribed).toBe(storm.clients)
        expect(r.resubscribeMs).toBeGreaterThan(0)
        // Every client tried at least once while down, and the port saw requests (not only a closed port).
        expect(r.clientAttempts).toBeGreaterThanOrEqual(storm.clients)
        expect(r.serverAttempts).toBeGreaterThan(0)
        expect(r.timeline.length).toBeGreaterThan(0)
        // The other node of the cluster kept answering its callers before and during the storm.
        expect(r.bystander).toMatchObject({ callers: storm.bystander!.callers, errors: 0 })
        expect(r.bystander!.before.calls).toBeGreaterThan(0)
        expect(r.bystander!.storm.calls).toBeGreaterThan(0)
        expect(r.recoverCpuMs).toBeGreaterThan(0)
        // Every client came back through a handshake, and never more at once than the admission limit.
        expect(r.handshakesPeak).toBeGreaterThan(0)
        expect(r.handshakesPeak).toBeLessThanOrEqual(4_096)
      },
      30_000,
    )
  }
})

describe('history (smoke size)', () => {
  for (const store of ['memory', 'nats'] as const) {
    it(`${store}: history and plain topics deliver every publication in order; every client back at once recovers all it missed`, async () => {
      if (store === 'nats') expect(haveNats, 'nats-server is not installed').toBe(true)
      const sizes = HISTORY_SIZES.smoke
      const lines: string[] = []
      const r = await runHistory(sizes, (l) => lines.push(l), store)
      expect(r.errors, lines.join('\n')).toEqual([])
      for (const f of r.fanout) expect(f).toMatchObject({ deliveries: f.expected, disorder: 0 })
      expect(r.fanout.map((f) => f.topic)).toEqual(['plain', 'hist'])
      const x = r.recovery!
      expect(x).toMatchObject({ clients: sizes.recovery.clients, recovered: sizes.recovery.clients, notRecovered: 0, complete: sizes.recovery.clients, disorder: 0 })
      // At most one read per client, and at least one per stream.
      expect(x.storeReads).toBeGreaterThanOrEqual(sizes.recovery.rooms)
      expect(x.storeReads).toBeLessThanOrEqual(sizes.recovery.clients)
    }, 60_000)
  }
})

describe('connection churn (smoke size)', () => {
  it('@rt on both transports: every cycle completes, and connections, rooms, bus subscriptions, directory and presence are back where they were', async () => {
    const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
    try {
      const rig = { clients, localAddresses: [], concurrency: CHURN_SIZES.smoke.concurrency }
      for (const c of churnContenders(['rt-uws', 'rt-ws'])) {
        const lines: string[] = []
        const r = await runChurn(c, CHURN_SIZES.smoke, rig, (l) => lines.push(l))
        expect(r.errors, lines.join('\n')).toEqual([])
        expect(r.cycles).toBeGreaterThan(0)
        expect(r.failed).toBe(0)
        expect(r.stateBefore).toMatchObject({ connections: 0, directoryConnections: 0, onlineUsers: 0 })
        expect(r.stateAfter).toEqual(r.stateBefore)
      }
    } finally {
      await killAll()
    }
  }, 60_000)
})

describe('one node filled up (smoke size)', () => {
  it('@rt on both transports and raw uWS: every socket of the small and the large room gets every tick', async () => {
    const sizes = LARGE_SIZES.smoke
    const clients = await Promise.all(Array.from({ length: sizes.clientProcs }, (_, i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
    try {
      const rig = { clients, localAddresses: [], concurrency: 20 }
      for (const c of CONTENDERS.filter((x) => ['rt-uws', 'rt-ws', 'raw-uws'].includes(x.id))) {
        const lines: string[] = []
        const r = await runLarge(c, sizes, rig, (l) => lines.push(l))
        expect(r.errors, lines.join('\n')).toEqual([])
        expect(r.small).toMatchObject({ n: sizes.smallN, delivered: sizes.smallN * sizes.messages, complete: true })
        expect(r.large).toMatchObject({ n: sizes.largeN, delivered: sizes.largeN * sizes.messages, complete: true })
        expect(r.connect).toMatchObject({ ready: sizes.largeN - sizes.smallN, failed: 0 })
      }
    } finally {
      await killAll()
    }
  }, 60_000)
})

describe('calls and connections taken apart (smoke size)', () => {
  it('every part answers every call (raw echo, echo at the end of the turn, raw JSON, @rt) and lets every connection in (raw upgrade, raw hello, @rt)', async () => {
    const clients = await Promise.all([0, 1].map((i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})))
    try {
      const sizes = PARTS_SIZES.smoke
      const lines: string[] = []
      const results = await runParts(sizes, { clients, localAddresses: [], concurrency: 4 }, (l) => lines.push(l))
      expect(results.rpc.map((r) => r.id)).toEqual(RPC_PARTS.map((p) => p.id))
      expect(results.setup.map((r) => r.id)).toEqual(SETUP_PARTS.map((p) => p.id))
      const calls = sizes.clients * sizes.callsPerSocket!
      for (const r of results.rpc) {
        expect(r.errors, lines.join('\n')).toEqual([])
        expect(r.runs).toHaveLength(sizes.rounds)
        for (const run of r.runs) expect(run).toMatchObject({ clients: sizes.clients, total: calls, answered: calls, errors: 0 })
        expect(r.cpuUs).toBeGreaterThan(0)
      }
      for (const r of results.setup) {
        expect(r.errors, lines.join('\n')).toEqual([])
        // Measured twice a round: right after start, then warm.
        expect([r.firstRuns?.length, r.runs.length]).toEqual([sizes.rounds, sizes.rounds])
        for (const run of [...r.firstRuns!, ...r.runs]) expect(run).toMatchObject({ n: sizes.connections, ready: sizes.connections, failed: 0 })
        expect([r.firstCpuUs, r.cpuUs].every((x) => x! > 0)).toBe(true)
      }
    } finally {
      await killAll()
    }
  }, 60_000)
})
