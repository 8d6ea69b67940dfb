import type { NatsCluster } from '../nats/nats-server.js'

interface Jsz {
  server_name?: string
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[]
}

/** Index in `cluster.servers` of the server leading JetStream stream `name` (servers are named `…-s<i>`), or -1. */
export async function streamLeader(cluster: NatsCluster, name: string): Promise<number> {
  for (const port of cluster.monitorPorts) {
    try {
      const jsz = (await (await fetch(`http://127.0.0.1:${port}/jsz?accounts=true&streams=true`)).json()) as Jsz
      const leader = jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === name)?.cluster?.leader
      const m = leader?.match(/-s(\d+)$/)
      if (m) return Number(m[1])
    } catch {
      // next server
    }
  }
  return -1
}
