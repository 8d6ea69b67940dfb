import { RtError, errorFromFrame, validate, type CallFrame, type Encoder, type ErrorFrame, type Frame, type ResultFrame, type RoleView } from '@rt/contract'
import { endCall, startCall } from './telemetry.js'
import type { CallOptions, WebSocketLike } from './types.js'

interface PendingCall {
  id: number
  name: string
  input: unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  timer: ReturnType<typeof setTimeout> | undefined
  /** The socket the call was written to; undefined while it waits for a connection. */
  socket: WebSocketLike | undefined
  cleanup: () => void
  /** The caller's trace context, sent in the frame (`tc`). */
  tc: Record<string, string> | undefined
}

/** What the calls need from their client. */
export interface CallsLink {
  view: RoleView
  encoder: Encoder
  validate: boolean
  /** @default 10_000 */
  callTimeoutMs: number | undefined
  offline: 'wait' | 'fail' | undefined
  nextId: () => number
  /** The socket to write a call to now; undefined while not connected or going away. */
  writable: () => WebSocketLike | undefined
  /** Why the client closed for good, once it has. */
  closed: () => RtError | undefined
  /** Why the client is not connected, in a few words. */
  offlineDetail: () => string
  /** Why the client is not connected, as the error it last failed with. */
  lastError: () => RtError | undefined
  /** The largest frame the server accepts. */
  maxFrame: () => number
  tooLarge: (frame: Frame) => boolean
}

/**
 * The client's calls: answered by id, timed out, written at once or held while offline (in
 * call order) until the next connection opens.
 */
export class Calls {
  private readonly pending = new Map<number, PendingCall>()
  private readonly waiting: PendingCall[] = [] // calls made while offline, in call order

  constructor(private readonly link: CallsLink) {}

  call(name: string, input: unknown, opts: CallOptions = {}): Promise<unknown> {
    const link = this.link
    return new Promise((settleOk, settleError) => {
      const closed = link.closed()
      if (closed) return settleError(closed)
      if (opts.signal?.aborted) return settleError(opts.signal.reason)
      const socket = link.writable()
      if (!socket && (opts.offline ?? link.offline) === 'fail') return settleError(this.notConnected())
      // Only with an OpenTelemetry SDK registered: a CLIENT span, whose context goes in the frame.
      const trace = startCall(name)
      const resolve = trace ? (v: unknown) => (endCall(trace, false), settleOk(v)) : settleOk
      const reject = trace ? (e: unknown) => (endCall(trace, true, e), settleError(e)) : settleError
      const c: PendingCall = { id: link.nextId(), name, input, resolve, reject, timer: undefined, socket: undefined, cleanup: () => {}, tc: trace?.carrier }
      const timeout = opts.timeout ?? link.callTimeoutMs ?? 10_000
      c.timer = setTimeout(() => {
        this.settle(c)
        // Never sent: the cause is the missing connection, not a slow server.
        const why = c.socket ? '' : `: not connected (${link.offlineDetail()})`
        const last = link.lastError()
        reject(new RtError('TIMEOUT', `Call "${name}" timed out after ${timeout} ms${why}`, undefined, c.socket || !last ? undefined : { cause: last }))
      }, timeout)
      const onAbort = () => {
        this.settle(c)
        reject(opts.signal?.reason)
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      c.cleanup = () => {
        clearTimeout(c.timer)
        opts.signal?.removeEventListener('abort', onAbort)
      }
      this.pending.set(c.id, c)
      if (socket) this.write(c, socket)
      else this.waiting.push(c)
    })
  }

  /** Settles the call a result or error frame answers; false if the id is not a pending call's. */
  answer(f: ResultFrame | ErrorFrame): boolean {
    const call = f.id === undefined ? undefined : this.pending.get(f.id)
    if (!call) return false
    this.settle(call)
    if (f.t === 'error') {
      call.reject(errorFromFrame(f))
      return true
    }
    const def = this.link.view.procedures.get(call.name)
    if (!this.link.validate || !def) {
      call.resolve(f.d)
      return true
    }
    void Promise.resolve(validate(def.output, f.d)).then((r) =>
      r.ok ? call.resolve(r.value) : call.reject(new RtError('BAD_REQUEST', `Result of "${call.name}" does not match the contract`, { issues: r.issues })),
    )
    return true
  }

  /** A new connection: calls that waited are sent, in call order. */
  flush(s: WebSocketLike): void {
    for (const call of this.waiting.splice(0)) this.write(call, s)
  }

  /** The link dropped: calls already written will never be answered. */
  lost(error: RtError): void {
    for (const call of [...this.pending.values()]) {
      if (call.socket) {
        this.settle(call)
        call.reject(error)
      }
    }
  }

  /** Rejects the calls that wait for a connection. */
  failWaiting(error: RtError): void {
    for (const call of this.waiting.splice(0)) {
      this.settle(call)
      call.reject(error)
    }
  }

  /** The client closed for good: every call rejects. */
  failAll(error: RtError): void {
    for (const call of [...this.pending.values()]) {
      this.settle(call)
      call.reject(error)
    }
  }

  private notConnected(): RtError {
    const last = this.link.lastError()
    return new RtError('CONNECTION_LOST', `Not connected (${this.link.offlineDetail()})`, undefined, last ? { cause: last } : undefined)
  }

  private write(call: PendingCall, s: WebSocketLike): void {
    const f: CallFrame = call.input === undefined ? { t: 'call', id: call.id, p: call.name } : { t: 'call', id: call.id, p: call.name, d: call.input }
    if (call.tc) f.tc = call.tc
    const frame = this.link.encoder.encode(f)
    // The server would close the whole connection (1009) for this frame: refuse just this call.
    if (this.link.tooLarge(frame)) {
      this.settle(call)
      return call.reject(new RtError('PAYLOAD_TOO_LARGE', `Call "${call.name}" is larger than the server accepts (${this.link.maxFrame()} bytes)`))
    }
    call.socket = s
    s.send(frame)
  }

  private settle(call: PendingCall): void {
    this.pending.delete(call.id)
    const i = this.waiting.indexOf(call)
    if (i >= 0) this.waiting.splice(i, 1)
    call.cleanup()
  }
}
