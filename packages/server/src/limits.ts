/** Per-connection limits. Every field has a documented default; see docs/server.md. */
export interface Limits {
  /** Largest inbound frame; larger closes the socket with 1009. @default 1_048_576 (1 MiB) */
  maxFrameBytes: number
  /** Time allowed between the socket opening and an authenticated `hello`. @default 10_000 */
  handshakeTimeoutMs: number
  /** How often the server pings each connection. @default 15_000 */
  heartbeatIntervalMs: number
  /** Silence after which the server drops a connection (4004). @default 35_000 */
  heartbeatTimeoutMs: number
  /** Calls a connection may have running at once; more get RATE_LIMITED. @default 64 */
  maxInFlightCalls: number
  /** Topic subscriptions per connection; more get RATE_LIMITED. @default 256 */
  maxSubscriptions: number
  /** Sustained inbound frames per second per connection. @default 200 */
  ratePerSecond: number
  /** Burst allowance above the sustained rate. @default 400 */
  rateBurst: number
  /** Frames refused in a row (over the rate, or malformed) before the connection is closed (4006). @default 100 */
  rateStrikes: number
  /** Outbound bytes buffered for a connection before it is closed as a slow consumer (4005). @default 4_194_304 (4 MiB) */
  maxBufferedBytes: number
  /** How long `close()` waits for in-flight calls before failing them. @default 10_000 */
  closeTimeoutMs: number
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
  maxBufferedBytes: 4 << 20,
  closeTimeoutMs: 10_000,
})

export function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS, ...partial }
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`createServer: limits.${k} must be a positive number`)
  }
  return limits
}
