import { nowUs } from '../wire/clock.js'
import { Histogram } from '../wire/histogram.js'
import type { ClientProtocol } from '../wire/protocols.js'
import type { Sock } from './client-main.js'

export interface RpcArgs {
  /** How many of this process's sockets call (one call in flight each). */
  sockets: number
  /** Timed run: calls for warmupMs (not recorded), then durationMs (recorded). */
  warmupMs: number
  durationMs: number
  /** Counted run instead: exactly this many calls per socket, every one must be answered. */
  callsPerSocket?: number
  timeoutMs: number
}

/** Closed-loop echo calls: each socket sends its next call when the previous one is answered. */
export function createRpcRun(socks: Sock[], proto: ClientProtocol, a: RpcArgs) {
  const hist = new Histogram()
  const t0 = nowUs()
  const recFrom = t0 + a.warmupMs * 1000
  const stopAt = recFrom + a.durationMs * 1000
  let recorded = 0
  let total = 0
  let errors = 0
  let answered = 0
  let nextId = 1
  return new Promise((resolve) => {
    let running = socks.length
    const finish = () => {
      clearTimeout(timer)
      for (const s of socks) s.onReply = undefined
      resolve({ sockets: socks.length, recorded, total, answered, errors, recFromUs: recFrom, recToUs: a.callsPerSocket !== undefined ? nowUs() : Math.min(stopAt, nowUs()), hist: hist.toJSON() })
    }
    const timer = setTimeout(finish, a.timeoutMs)
    if (running === 0) return finish()
    for (const s of socks) {
      let sent = 0
      let sentAt = 0
      const send = () => {
        sent++
        sentAt = nowUs()
        s.ws.send(proto.call(nextId++, sentAt))
      }
      s.onReply = (error) => {
        const now = nowUs()
        total++
        if (error) errors++
        else answered++
        if (a.callsPerSocket !== undefined || (now >= recFrom && now < stopAt)) {
          recorded++
          hist.record(now - sentAt)
        }
        const more = a.callsPerSocket !== undefined ? sent < a.callsPerSocket : now < stopAt
        if (more && s.ready) send()
        else {
          s.onReply = undefined
          if (--running === 0) finish()
        }
      }
      send()
    }
  })
}
