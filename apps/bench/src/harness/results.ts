import type { ContenderId } from './contenders.js'

export interface FanoutResult {
  n: number
  messages: number
  burst: number
  /** 0 for a throughput run; else the pace between ticks. */
  intervalMs: number
  expected: number
  delivered: number
  /** Every socket got every tick exactly once, in order. */
  complete: boolean
  outOfOrder: number
  wallMs: number
  deliveriesPerSec: number
  serverCpuUs: number
  cpuUsPerDelivery: number
  deliveriesPerCpuSec: number
  /** CPU of the bus program (nats-server / redis-server) in a cluster run. */
  busCpuUs?: number
  clientCpuUs: number
  p50Us: number
  p99Us: number
  maxUs: number
}

export interface RpcResult {
  clients: number
  /** Calls answered inside the recorded window (or all of them in a counted run). */
  calls: number
  callsPerSec: number
  /** Every call sent, warmup included, and how many were answered / failed. */
  total: number
  answered: number
  errors: number
  serverCpuUs: number
  cpuUsPerCall: number
  p50Us: number
  p99Us: number
}

export interface ConnectResult {
  n: number
  ready: number
  failed: number
  wallMs: number
  perSec: number
  cpuUsPerConn: number
}

export interface MemoryResult {
  n: number
  rssBefore: number
  rssAfter: number
  heapBefore: number
  heapAfter: number
  rssPerConn: number
  heapPerConn: number
  /** Growth of V8's young generation (committed, in RSS) over the measurement, per connection. */
  youngPerConn: number
}

export interface ContenderResult {
  id: ContenderId
  label: string
  facts: Record<string, unknown>
  connect?: ConnectResult
  memory?: MemoryResult
  fanoutBig?: FanoutResult
  fanoutSmall?: FanoutResult
  /** Every throughput run, the reported median included. */
  fanoutRuns?: { big: FanoutResult[]; small: FanoutResult[] }
  pacedBig?: FanoutResult
  pacedSmall?: FanoutResult
  rpc?: RpcResult
  errors: string[]
}

export interface ClusterResult {
  id: ContenderId
  label: string
  bus: string
  nodes: number
  single?: FanoutResult
  cluster?: FanoutResult
  /** The same sockets, one tick at a time at the same offered load: latency, 1 node vs the cluster. */
  singlePaced?: FanoutResult
  clusterPaced?: FanoutResult
  errors: string[]
}

export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  versions: Record<string, string>
  /** 1-minute load average when the run started and ended: other work on the machine skews wall-clock rates. */
  loadAvg: { start: number; end?: number }
}

export interface BenchResults {
  mode: string
  command: string
  startedAt: string
  durationMs: number
  machine: Machine
  sizes: unknown
  contenders: ContenderResult[]
  cluster: ClusterResult[]
  profiles?: string[]
}
