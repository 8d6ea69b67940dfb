import { loadavg } from 'node:os'
import { CONTENDERS, type ContenderId } from './contenders.js'
import { startNats, startRedis, type Program } from './infra.js'
import { describeMachine } from './machine.js'
import type { Rig } from './measure.js'
import { Child, killAll } from './proc.js'
import type { BenchResults } from './results.js'
import { runCluster } from './run-cluster.js'
import { runContender, type RunOptions } from './run-contender.js'
import type { Sizes } from './sizes.js'

export interface BenchOptions extends RunOptions {
  sizes: Sizes
  command: string
  contenders?: ContenderId[]
  /** Skip the cross-node scenario. */
  noCluster?: boolean
  /** Run the cross-node scenario only. */
  clusterOnly?: boolean
}

/** Runs every scenario for every contender; always kills what it started, even on error or deadline. */
export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const started = Date.now()
  const { sizes } = o
  const picked = o.contenders ? CONTENDERS.filter((c) => o.contenders!.includes(c.id)) : CONTENDERS
  const results: BenchResults = {
    mode: sizes.mode,
    command: o.command,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    machine: describeMachine(),
    sizes,
    contenders: [],
    cluster: [],
  }
  let expired = false
  const deadline = setTimeout(() => {
    expired = true
    o.log(`deadline of ${sizes.deadlineMs / 1000} s reached: stopping every process`)
    void killAll()
  }, sizes.deadlineMs)
  const programs: Program[] = []
  try {
    const clients = await Promise.all(
      Array.from({ length: sizes.clientProcs }, (_, i) => Child.fork(`client ${i}`, '../client/client-main.ts', {})),
    )
    const rig: Rig = { clients, localAddresses: sizes.localAddresses, concurrency: sizes.concurrency }
    for (const c of o.clusterOnly ? [] : picked) {
      if (expired) break
      results.contenders.push(await runContender(c, sizes, rig, o))
    }
    const clustered = picked.filter((c) => c.cluster)
    if (sizes.cluster && !o.noCluster && clustered.length > 0 && !expired) {
      const nats = clustered.some((c) => c.id !== 'sio') ? await startNats() : undefined
      if (nats) programs.push(nats)
      let redis: Program | undefined
      for (const c of clustered) {
        if (expired) break
        if (c.id === 'sio') {
          try {
            redis ??= await startRedis()
            programs.push(redis)
          } catch (e) {
            results.cluster.push({ id: c.id, label: c.label, bus: 'redis', nodes: sizes.cluster.nodes, errors: [`redis: ${String(e)}`] })
            continue
          }
          results.cluster.push(await runCluster(c, sizes, rig, o, redis, 'Redis (@socket.io/redis-adapter)'))
        } else results.cluster.push(await runCluster(c, sizes, rig, o, nats!, 'NATS (@rt/bus-nats)'))
      }
    }
    await Promise.all(clients.map((c) => c.close(2_000)))
  } finally {
    clearTimeout(deadline)
    await Promise.all(programs.map((p) => p.stop()))
    await killAll()
    results.durationMs = Date.now() - started
    results.machine.loadAvg.end = loadavg()[0]!
  }
  return results
}
