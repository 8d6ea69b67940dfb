import type { Attributes, Histogram, Meter } from '@opentelemetry/api'
import { AttrCache, BUS_KINDS, Tally } from './attrs.js'
import type { BusCounts } from './bus-probe.js'
import type { Totals } from './totals.js'

/** What the observable instruments read, at collection time only. */
export interface Observed {
  totals: Totals
  bus: BusCounts
  /** Open connections per role. */
  connections(): Map<string, number>
  /** Open client subscriptions per topic. */
  subscriptions(): Map<string, number>
  nodes(): number
  history(): { recoveries: number; recovered: number; replayed: number } | undefined
}

// Histogram buckets in seconds: sub-millisecond calls and fan-outs are the common case.
const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The server's instruments; names and attributes are listed in docs/observability.md. */
export class Instruments {
  readonly callDuration: Histogram
  readonly fanout: Histogram
  readonly busLag: Histogram
  /** `rpc.method` × outcome code ('' for OK). */
  readonly callAttrs = new AttrCache((method, code) =>
    code === '' ? { 'rpc.system.name': 'rt', 'rpc.method': method, 'rpc.response.status_code': 'OK' } : { 'rpc.system.name': 'rt', 'rpc.method': method, 'rpc.response.status_code': code, 'error.type': code },
  )
  /** `kind\ntopic` × origin (local | peer). */
  readonly fanoutAttrs = new AttrCache((kt, origin) => {
    const [kind = '', topic = ''] = kt.split('\n')
    return { 'rt.kind': kind, ...(topic && { 'messaging.destination.name': topic }), 'rt.origin': origin }
  })
  readonly kindAttrs = new AttrCache((key, kind) => ({ [key]: kind }))
  // Counters: tallied here, observed at collection (see `Tally`).
  readonly sent = new Tally((kind, topic) => ({ 'messaging.system': 'rt', 'messaging.operation.name': kind === 'topic' ? 'publish' : 'send', 'rt.kind': kind, ...(topic && { 'messaging.destination.name': topic }) }))
  readonly deliveries = new Tally((kind, topic) => ({ 'messaging.system': 'rt', 'rt.kind': kind, ...(topic && { 'messaging.destination.name': topic }) }))
  readonly accepted = new Tally((role) => ({ 'rt.role': role }))
  readonly closed = new Tally((role, code) => ({ 'rt.role': role, 'rt.close_code': Number(code) }))
  readonly refusals = new Tally((code) => ({ 'rt.close_code': Number(code) }))
  readonly slow = new Tally((role) => ({ 'rt.role': role }))
  readonly rateLimited = new Tally((limit) => ({ 'rt.limit': limit }))
  readonly invalid = new Tally((method, direction) => ({ 'rpc.method': method, 'rt.direction': direction }))

  constructor(meter: Meter, o: Observed) {
    const h = (name: string, description: string) => meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: SECONDS } })
    this.callDuration = h('rpc.server.call.duration', 'Duration of RPC calls handled by this node, receipt to answer')
    this.fanout = h('rt.server.fanout.duration', 'Publish (or bus receipt) to the last local socket write of one message')
    this.busLag = h('rt.bus.lag', 'Send time on the publishing node to receipt on this one')
    const tally = (name: string, unit: string, description: string, t: Tally) => meter.createObservableCounter(name, { description, unit }).addCallback((r) => t.report(r))
    tally('rt.server.connections.accepted', '{connection}', 'Connections admitted (authenticated)', this.accepted)
    tally('rt.server.connections.closed', '{connection}', 'Admitted connections that ended, by close code', this.closed)
    tally('rt.server.auth.refusals', '{handshake}', 'Handshakes refused (origin, version, role, authenticate)', this.refusals)
    tally('messaging.client.sent.messages', '{message}', 'Broadcasts, publishes and targeted sends made on this node', this.sent)
    tally('rt.server.deliveries', '{delivery}', 'Messages written to local sockets by fan-out (one per recipient)', this.deliveries)
    tally('rt.server.slow_consumer.closes', '{connection}', 'Connections closed with 4005 (outbound buffer over the limit)', this.slow)
    tally('rt.server.rate_limit.hits', '{hit}', 'Frames or calls refused by a rate limit', this.rateLimited)
    tally('rt.server.validation.failures', '{failure}', 'Call inputs and outputs that failed the contract schema', this.invalid)

    const t = o.totals
    const counter = (name: string, unit: string, description: string, read: () => number) =>
      meter.createObservableCounter(name, { description, unit }).addCallback((r) => r.observe(read()))
    counter('rt.server.frames.received', '{frame}', 'Frames received from clients', () => t.framesIn)
    counter('rt.server.frames.sent', '{frame}', 'Frames written to client sockets', () => t.framesOut)
    counter('rt.server.bytes.received', 'By', 'Bytes of frames received from clients', () => t.bytesIn)
    counter('rt.server.bytes.sent', 'By', 'Bytes of frames written to client sockets', () => t.bytesOut)
    const perKey = (name: string, unit: string, description: string, key: string, read: () => Map<string, number>) =>
      meter.createObservableUpDownCounter(name, { description, unit }).addCallback((r) => {
        for (const [k, n] of read()) r.observe(n, this.kindAttrs.get(key, k))
      })
    perKey('rt.server.connections.open', '{connection}', 'Open connections', 'rt.role', o.connections)
    perKey('rt.server.subscriptions.open', '{subscription}', 'Client subscriptions to topic streams', 'messaging.destination.name', o.subscriptions)
    meter.createObservableGauge('rt.cluster.nodes', { description: 'Live nodes of the cluster, as this node sees them', unit: '{node}' }).addCallback((r) => r.observe(o.nodes()))
    const bus = (name: string, description: string, counts: number[]) =>
      meter.createObservableCounter(name, { description, unit: '{message}' }).addCallback((r) => BUS_KINDS.forEach((k, i) => r.observe(counts[i]!, this.kindAttrs.get('rt.bus.kind', k))))
    bus('rt.bus.messages.sent', 'Messages this node published on the cluster bus', o.bus.sent)
    bus('rt.bus.messages.received', 'Messages this node received from the cluster bus', o.bus.received)
    const history = (name: string, unit: string, description: string, read: (h: NonNullable<ReturnType<Observed['history']>>, r: { observe(n: number, a?: Attributes): void }) => void) =>
      meter.createObservableCounter(name, { description, unit }).addCallback((r) => {
        const hs = o.history()
        if (hs) read(hs, r)
      })
    history('rt.server.history.recoveries', '{recovery}', 'Subscribes that came with a position, by outcome', (hs, r) => {
      r.observe(hs.recovered, this.kindAttrs.get('rt.recovery.outcome', 'recovered'))
      r.observe(hs.recoveries - hs.recovered, this.kindAttrs.get('rt.recovery.outcome', 'missed'))
    })
    history('rt.server.history.replayed', '{publication}', 'Publications sent in recovery replays', (hs, r) => r.observe(hs.replayed))
  }
}
