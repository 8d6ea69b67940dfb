/** Every server metric docs/observability.md lists, with the attributes each one's points carry. */
export const SERVER_METRICS: Record<string, readonly string[]> = {
  'rt.server.connections.open': ['rt.role'],
  'rt.server.connections.accepted': ['rt.role'],
  'rt.server.connections.closed': ['rt.role', 'rt.close_code'],
  'rt.server.auth.refusals': ['rt.close_code'],
  'rt.server.frames.received': [],
  'rt.server.frames.sent': [],
  'rt.server.bytes.received': [],
  'rt.server.bytes.sent': [],
  'rpc.server.call.duration': ['rpc.system.name', 'rpc.method', 'rpc.response.status_code'],
  'messaging.client.sent.messages': ['messaging.system', 'messaging.operation.name', 'rt.kind'],
  'rt.server.deliveries': ['messaging.system', 'rt.kind'],
  'rt.server.fanout.duration': ['rt.kind', 'rt.origin'],
  'rt.server.slow_consumer.closes': ['rt.role'],
  'rt.server.rate_limit.hits': ['rt.limit'],
  'rt.server.validation.failures': ['rpc.method', 'rt.direction'],
  'rt.server.subscriptions.open': ['messaging.destination.name'],
  'rt.cluster.nodes': [],
  'rt.bus.messages.sent': ['rt.bus.kind'],
  'rt.bus.messages.received': ['rt.bus.kind'],
  'rt.bus.lag': ['rt.kind'],
  'rt.server.history.recoveries': ['rt.recovery.outcome'],
  'rt.server.history.replayed': [],
}

/** Only a cluster has them: a peer's messages. */
export const CLUSTER_ONLY = new Set(['rt.bus.lag'])

export const CLIENT_METRICS: Record<string, readonly string[]> = {
  'rpc.client.call.duration': ['rpc.system.name', 'rpc.method', 'rpc.response.status_code'],
}

/** Every attribute value of exported spans and metric points, as one string to search. */
export function exportedText(spans: { name: string; attributes: object }[], metrics: Map<string, { points: { attributes: object }[] }>): string {
  return JSON.stringify([spans.map((s) => [s.name, s.attributes]), [...metrics.values()].map((m) => m.points.map((p) => p.attributes))])
}
