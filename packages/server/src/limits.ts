/**
 * Per-connection and per-node limits. Every field has a documented default; see docs/server.md.
 * Fields marked "Infinity turns it off" accept `Infinity`.
 */
export interface Limits {
  /** Largest inbound frame; larger closes the socket with 1009. @default 1_048_576 (1 MiB) */
  maxFrameBytes: number
  /** Time allowed between the socket opening and an authenticated `hello`. @default 10_000 */
  handshakeTimeoutMs: number
  /** How often the server pings each connection. @default 15_000 */
  heartbeatIntervalMs: number
  /** Silence after which the server drops a connection (4004). @default 35_000 */
  heartbeatTimeoutMs: number
  /** Calls a connection may have running at once (answered synchronously ones never count); more get RATE_LIMITED. Infinity turns it off. @default 64 */
  maxInFlightCalls: number
  /** Topic subscriptions per connection; more get RATE_LIMITED. Infinity turns it off. @default 256 */
  maxSubscriptions: number
  /** Sustained inbound frames per second per connection. Infinity turns it off. @default 200 */
  ratePerSecond: number
  /** Burst allowance above the sustained rate. @default 400 */
  rateBurst: number
  /** Frames refused in a row (over the rate, or malformed) before the connection is closed (4006). @default 100 */
  rateStrikes: number
  /** Sustained inbound bytes per second per connection, malformed frames included; over the burst closes it (4006). Infinity turns it off. @default 1_048_576 (1 MiB/s) */
  byteRatePerSecond: number
  /** Inbound bytes a connection may send above the sustained byte rate. @default 16_777_216 (16 MiB) */
  byteBurst: number
  /** Deepest nesting of arrays and objects in a call's input or a subscription's params; deeper gets BAD_REQUEST before any schema runs. @default 128 */
  maxInputDepth: number
  /** Outbound bytes buffered for a connection before it is closed as a slow consumer (4005). @default 4_194_304 (4 MiB) */
  maxBufferedBytes: number
  /** How long `close()` waits for in-flight calls before failing them. @default 10_000 */
  closeTimeoutMs: number
  /** Bytes of frames held for one socket while `authenticate` runs; more closes it (4000). @default 65_536 (64 KiB) */
  maxHandshakeBytes: number
  /** Bytes of frames held across all sockets while they authenticate; the socket that would go over is closed with 1013. Infinity turns it off. @default 33_554_432 (32 MiB) */
  maxHandshakeBytesTotal: number
  /** Sockets in their handshake (open, not yet authenticated) at once; further upgrades get HTTP 503. Infinity turns it off. @default 4_096 */
  maxHandshakes: number
  /** Sockets on this node, open or in their handshake; further upgrades get HTTP 503. @default Infinity (off) */
  maxConnections: number
  /** Sockets from one remote address, open or in their handshake; further upgrades get HTTP 429. @default Infinity (off) */
  maxConnectionsPerIp: number
  /** Most publications one recovery replays (history topics); a client further behind is answered `recovered: false`. @default 1_000 */
  maxRecovery: number
  /** Longest a recovery's store read may take; slower is answered UNAVAILABLE, and the client retries from its position. @default 5_000 */
  recoveryTimeoutMs: number
  /** How long before `ctx.expiresAt` the server sends `refresh` (at most half the time left); the client must answer by the expiry, or is closed with 4001. @default 15_000 */
  refreshAheadMs: number
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFrameBytes: 1 << 20,
  handshakeTimeoutMs: 10_000,
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 35_000,
  maxInFlightCalls: 64,
  maxSubscriptions: 256,
  ratePerSecond: 200,
  rateBurst: 400,
  rateStrikes: 100,
  byteRatePerSecond: 1 << 20,
  byteBurst: 16 << 20,
  maxInputDepth: 128,
  maxBufferedBytes: 4 << 20,
  closeTimeoutMs: 10_000,
  maxHandshakeBytes: 64 << 10,
  maxHandshakeBytesTotal: 32 << 20,
  maxHandshakes: 4_096,
  maxConnections: Infinity,
  maxConnectionsPerIp: Infinity,
  maxRecovery: 1_000,
  recoveryTimeoutMs: 5_000,
  refreshAheadMs: 15_000,
})

// Timers and sizes handed to transports must be finite: setTimeout(…, Infinity) fires at once.
const MAY_BE_INFINITE: ReadonlySet<string> = new Set<keyof Limits>([
  'maxInFlightCalls',
  'maxSubscriptions',
  'ratePerSecond',
  'rateBurst',
  'rateStrikes',
  'byteRatePerSecond',
  'byteBurst',
  'maxInputDepth',
  'maxHandshakeBytes',
  'maxHandshakeBytesTotal',
  'maxHandshakes',
  'maxConnections',
  'maxConnectionsPerIp',
])

export function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS, ...partial }
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`createServer: limits.${k} must be a positive number`)
    if (v === Infinity && !MAY_BE_INFINITE.has(k)) throw new TypeError(`createServer: limits.${k} must be finite`)
  }
  return limits
}
