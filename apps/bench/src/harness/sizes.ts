/** How big each scenario is in one run mode. */
export interface Sizes {
  mode: 'full' | 'quick' | 'smoke'
  /** Load-client processes (the sockets are spread over them). */
  clientProcs: number
  /**
   * Loopback source addresses the clients bind in turn (127.0.0.2, …), for more than ~28k
   * connections to one server port. Empty: the kernel picks, per destination. Binding makes it
   * pick ports among the TIME_WAIT leftovers of earlier contenders, and connects then slow
   * down erratically; every server listens on a fresh port, so 10 000 do not need it.
   */
  localAddresses: string[]
  /** Handshakes in flight at once per client process. */
  concurrency: number
  /** Connections for the connect-rate, idle-memory and large fan-out scenarios. */
  bigN: number
  bigM: number
  /** Connections and messages for the small fan-out; RPC runs on these connections. */
  smallN: number
  smallM: number
  /** Ticks per event-loop turn in a throughput fan-out. */
  burst: number
  /** Throughput fan-out runs per size; the median (by CPU per delivery) is reported. */
  repeats: number
  /** Latency fan-out at the same offered load for every contender, one tick at a time. */
  paced: { deliveriesPerSec: number; durationMs: number } | null
  rpc: { clients: number; warmupMs: number; durationMs: number; callsPerSocket?: number }
  warmup: { n: number; m: number; rpcMs: number }
  /** Cross-node fan-out; `paced`: one tick at a time at this offered load, for latency (1 node vs the cluster). */
  cluster: { nodes: number; n: number; m: number; paced: { deliveriesPerSec: number; durationMs: number } } | null
  /** Hard limit for the whole run; everything is killed when it passes. */
  deadlineMs: number
}

export const SIZES: Record<Sizes['mode'], Sizes> = {
  full: {
    mode: 'full',
    clientProcs: 2,
    localAddresses: [],
    concurrency: 128,
    bigN: 10_000,
    bigM: 100,
    smallN: 1_000,
    smallM: 500,
    burst: 10,
    repeats: 3,
    paced: { deliveriesPerSec: 50_000, durationMs: 2_000 },
    rpc: { clients: 50, warmupMs: 1_000, durationMs: 3_000 },
    warmup: { n: 200, m: 300, rpcMs: 500 },
    cluster: { nodes: 3, n: 3_000, m: 200, paced: { deliveriesPerSec: 30_000, durationMs: 3_000 } },
    deadlineMs: 570_000,
  },
  quick: {
    mode: 'quick',
    clientProcs: 2,
    localAddresses: [],
    concurrency: 128,
    bigN: 2_000,
    bigM: 50,
    smallN: 500,
    smallM: 200,
    burst: 10,
    repeats: 1,
    paced: { deliveriesPerSec: 50_000, durationMs: 500 },
    rpc: { clients: 20, warmupMs: 200, durationMs: 700 },
    warmup: { n: 50, m: 50, rpcMs: 200 },
    cluster: { nodes: 3, n: 600, m: 50, paced: { deliveriesPerSec: 30_000, durationMs: 1_000 } },
    deadlineMs: 58_000,
  },
  smoke: {
    mode: 'smoke',
    clientProcs: 2,
    localAddresses: [],
    concurrency: 20,
    bigN: 20,
    bigM: 20,
    smallN: 20,
    smallM: 20,
    burst: 5,
    repeats: 1,
    paced: null,
    rpc: { clients: 6, warmupMs: 0, durationMs: 0, callsPerSocket: 20 },
    warmup: { n: 4, m: 4, rpcMs: 50 },
    cluster: { nodes: 3, n: 21, m: 20, paced: { deliveriesPerSec: 2_000, durationMs: 200 } },
    deadlineMs: 35_000,
  },
}
