import { FUZZ_MAX_FRAME } from './frames.js'
import type { ServerStats } from './server-process.js'

/** Limits of the attacked server: the rate limit out of the way (it is tested on its own), small frames. */
export const FUZZ_LIMITS = { maxFrameBytes: FUZZ_MAX_FRAME, handshakeTimeoutMs: 2_000, ratePerSecond: 1e6, rateBurst: 1e6 }

/**
 * New entries in the server's failure records since `before`: uncaught exceptions, unhandled
 * rejections, and onError reports of server errors. A report of a client error (an RtError with
 * a 4xx-style code, e.g. "input schema threw" answered BAD_REQUEST) tells the operator, and is fine.
 */
export function serverProblems(before: ServerStats, after: ServerStats): string[] {
  return [
    ...after.uncaught.slice(before.uncaught.length).map((e) => `uncaught exception in the server: ${e}`),
    ...after.unhandled.slice(before.unhandled.length).map((e) => `unhandled rejection in the server: ${e}`),
    ...after.reported
      .slice(before.reported.length)
      .filter((r) => !isClientCode(r.code))
      .map((r) => `onError (${r.where}) for client input: ${r.error}`),
  ].map((p) => p.slice(0, 1_500))
}

const CLIENT_CODES: ReadonlySet<string> = new Set(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'CONFLICT'])
const isClientCode = (code: string | undefined) => code !== undefined && CLIENT_CODES.has(code)

