import { randomBytes } from 'node:crypto'
import { afterAll } from 'vitest'
import { createNatsBus } from '@rt/bus-nats'
import { wsTransport } from './harness.js'
import { startNatsCluster, type NatsCluster } from './nats/nats-server.js'
import { describeCluster } from './suites/cluster.js'
import { describePresence } from './suites/presence.js'
import { describeTopics } from './suites/topics.js'

let shared: Promise<NatsCluster> | undefined
const cluster = () => (shared ??= startNatsCluster(3))
afterAll(async () => {
  if (shared) await (await shared)[Symbol.asyncDispose]()
})

// Three @rt nodes, each connected to a different server of a three-server NATS cluster.
const natsBuses = async () => {
  const { urls } = await cluster()
  const prefix = `t${randomBytes(4).toString('hex')}`
  const buses = [...urls, urls[0]!].map((servers) => createNatsBus({ servers, prefix, reconnectTimeWaitMs: 100 }))
  return { buses, cleanup: async () => void (await Promise.all(buses.map((b) => b.close()))) }
}

describeCluster('a 3-server NATS cluster', natsBuses, wsTransport)
describeTopics('a 3-server NATS cluster', natsBuses, wsTransport)
describePresence('a 3-server NATS cluster', natsBuses, wsTransport)
