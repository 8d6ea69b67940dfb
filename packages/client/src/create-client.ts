import {
  CloseCode,
  PROTOCOL_VERSION,
  RtError,
  decodeServerFrame,
  errorForClose,
  errorFromFrame,
  indexContract,
  jsonEncoder,
  subprotocolOf,
  type AnyContract,
  type RoleOf,
  type ServerFrame,
} from '@rt/contract'
import { AuthRefresh } from './auth-refresh.js'
import { backoffDelay } from './backoff.js'
import { Calls } from './calls.js'
import { closeDetail, connectError, displayUrl, errorEventDetail, finalError as gaveUpAfter, type ConnectErrorData } from './connect-error.js'
import { callEach, checkInbound } from './deliver.js'
import { Subscriptions } from './subscriptions.js'
import type { CallOptions, Client, ClientOptions, ClientState, StateChange, WebSocketLike } from './types.js'

/** Creates a typed client for one role of a contract. It connects at once and reconnects by itself. */
export function createClient<C extends AnyContract, R extends RoleOf<C>>(contract: C, options: ClientOptions<R>): Client<C, R> {
  const view = indexContract(contract).roles.get(options.role)
  if (!view) throw new TypeError(`createClient: role "${options.role}" is not in the contract`)
  const WS = options.WebSocket ?? (globalThis as { WebSocket?: ClientOptions<R>['WebSocket'] }).WebSocket
  if (!WS) throw new TypeError('createClient: no WebSocket implementation; pass `WebSocket` (e.g. from the ws package) on Node 20')
  const encoder = options.encoder ?? jsonEncoder
  const validatePayloads = options.validate ?? true
  const reconnect = options.reconnect === false ? false : (options.reconnect ?? {})
  const report = options.onError ?? (() => {})
  const PONG = encoder.encode({ t: 'pong' })
  // Another codec than JSON is asked for with the subprotocol `rt.<name>`; JSON asks for none (as before codecs).
  const protocol = encoder.name === jsonEncoder.name ? undefined : subprotocolOf(encoder)
  const byteLength = (f: string | Uint8Array) => (typeof f === 'string' ? (f.length * 3 <= maxFrame ? f.length : new TextEncoder().encode(f).byteLength) : f.byteLength)
  let maxFrame = Infinity

  let state: ClientState = 'connecting'
  let socket: WebSocketLike | undefined
  let connId: string | undefined
  let nodeId: string | undefined
  let attempt = 0
  let goingAway = false
  let closedForGood = false
  let finalError: Error | undefined
  /** Why the client is not connected; cleared when it opens. */
  let lastError: RtError | undefined
  // The current attempt: where it goes, whether the server welcomed it, what its error event said.
  let shownUrl = ''
  let welcomed = false
  let failure: { detail: string; cause?: unknown } | undefined
  let handshakeTimer: ReturnType<typeof setTimeout> | undefined
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let watchdog: ReturnType<typeof setInterval> | undefined
  let lastHeard = 0
  let nextId = 1
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const subscriptions = new Subscriptions({
    view,
    role: options.role,
    encoder,
    validate: validatePayloads,
    report: (e) => report(e),
    nextId: () => nextId++,
    open: () => (state === 'open' ? socket : undefined),
    closed: () => closedError(),
    tooLarge: (frame) => byteLength(frame) > maxFrame,
  })
  const calls = new Calls({
    view,
    encoder,
    validate: validatePayloads,
    callTimeoutMs: options.callTimeoutMs,
    offline: options.offline,
    nextId: () => nextId++,
    writable: () => (state === 'open' && !goingAway ? socket : undefined),
    closed: () => closedError(),
    offlineDetail: () => offlineDetail(),
    lastError: () => lastError,
    maxFrame: () => maxFrame,
    tooLarge: (frame) => byteLength(frame) > maxFrame,
  })
  const credentials = (): unknown => (typeof options.auth === 'function' ? (options.auth as () => unknown)() : options.auth)
  const refresher = new AuthRefresh({
    encoder,
    nextId: () => nextId++,
    open: () => (state === 'open' ? socket : undefined),
    credentials,
    timeoutMs: options.callTimeoutMs ?? 10_000,
  })
  const stateListeners = new Set<(change: StateChange) => void>()

  const setState = (next: ClientState, info: Omit<StateChange, 'state'> = {}) => {
    // A failed attempt is reported every time, even while still `connecting`.
    if (state === next && next !== 'reconnecting' && next !== 'connecting') return
    state = next
    for (const l of [...stateListeners]) {
      try {
        l({ state: next, ...info })
      } catch (e) {
        report(e)
      }
    }
  }

  async function connect(): Promise<void> {
    retryTimer = undefined
    let auth: unknown
    let url: string
    try {
      auth = await credentials()
      url = typeof options.url === 'function' ? options.url() : options.url
    } catch (e) {
      report(e)
      const detail = `the auth or url option threw: ${e instanceof Error ? e.message : String(e)}`
      lastError = connectError({ url: shownUrl, detail }, false, e)
      welcomed = false
      return scheduleRetry()
    }
    if (closedForGood) return
    let s: WebSocketLike
    try {
      s = protocol === undefined ? new (WS as NonNullable<typeof WS>)(url) : new (WS as NonNullable<typeof WS>)(url, [protocol])
    } catch (e) {
      return giveUp(e instanceof Error ? e : new Error(String(e)))
    }
    socket = s
    shownUrl = displayUrl(url)
    welcomed = false
    failure = undefined
    // Without a welcome the client would wait forever on a peer that is not an @rt server.
    handshakeTimer = setTimeout(() => {
      if (s !== socket) return
      const detail = s.readyState === 1 ? `not an @rt server (no welcome within ${handshakeTimeoutMs} ms)` : `no answer within ${handshakeTimeoutMs} ms`
      abandon(s, detail)
    }, handshakeTimeoutMs)
    s.binaryType = 'arraybuffer'
    s.onopen = () => {
      // A server that answered another subprotocol would send frames this encoder cannot read.
      if (protocol !== undefined && typeof s.protocol === 'string' && s.protocol !== protocol) {
        return abandon(s, `the server answered subprotocol "${s.protocol}", not ${protocol}`)
      }
      s.send(encoder.encode({ t: 'hello', v: PROTOCOL_VERSION, role: options.role, auth }))
    }
    s.onmessage = (ev) => {
      if (s !== socket) return
      lastHeard = Date.now()
      const frame = decodeServerFrame(encoder, ev.data instanceof ArrayBuffer ? new Uint8Array(ev.data) : (ev.data as string | Uint8Array))
      if (!frame && !welcomed) return abandon(s, 'not an @rt server (it sent a frame that is not @rt protocol)')
      if (!frame) return report(new RtError('BAD_REQUEST', 'Malformed frame from server'))
      receive(s, frame)
    }
    s.onerror = (ev) => {
      if (s === socket) failure ??= errorEventDetail(ev)
    }
    s.onclose = (ev) => {
      if (s === socket) lost(ev.code, ev.reason)
    }
  }

  /** Gives up on an attempt that reached something other than an @rt server. */
  function abandon(s: WebSocketLike, detail: string): void {
    failure = { detail }
    try {
      s.close(CloseCode.PROTOCOL_ERROR, 'not an @rt server')
    } catch {}
    lost(1006, '')
  }

  function receive(s: WebSocketLike, f: ServerFrame): void {
    switch (f.t) {
      case 'result':
      case 'error': {
        if (f.t === 'error' && f.id === undefined) return report(errorFromFrame(f))
        if (!(f.t === 'error' && refresher.answer(f)) && !subscriptions.answer(f)) calls.answer(f)
        return
      }
      case 'authed':
        refresher.answer(f)
        return
      case 'refresh':
        // Asked before the credentials expire; if this fails, the server closes with 4001 at the expiry.
        refresher.refresh().catch((e: unknown) => closedForGood || report(e))
        return
      case 'event':
        return dispatch(f.n, f.d)
      case 'pub':
        return subscriptions.publication(f)
      case 'ping':
        return s.send(PONG)
      case 'welcome':
        welcomed = true
        maxFrame = typeof f.mf === 'number' && f.mf > 0 ? f.mf : Infinity
        return opened(s, f.conn, f.node, f.hb)
      case 'goaway':
        // Finish what is in flight here; new calls wait for the next connection.
        goingAway = true
        return
      default:
        return
    }
  }

  function dispatch(event: string, payload: unknown): void {
    const set = listeners.get(event)
    if (!set || set.size === 0) return
    const def = view!.events.get(event)
    if (!def) return report(new RtError('NOT_FOUND', `Server sent unknown event "${event}"`))
    checkInbound(def.payload, payload, validatePayloads, `Event "${event}"`, report, (v) => callEach(set, v, report))
  }

  function opened(s: WebSocketLike, conn: string, node: string, hb: number): void {
    connId = conn
    nodeId = node
    attempt = 0
    goingAway = false
    lastError = undefined
    clearTimeout(handshakeTimer)
    lastHeard = Date.now()
    if (watchdog) clearInterval(watchdog)
    // The server pings every `hb` ms: two intervals of silence means the link is dead.
    watchdog = setInterval(() => {
      if (Date.now() - lastHeard > 2 * hb) {
        try {
          s.close(CloseCode.NORMAL, 'heartbeat timeout')
        } catch {}
        if (s !== socket) return
        failure = { detail: `heartbeat timeout: nothing heard for ${2 * hb} ms` }
        lost(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
      }
    }, Math.max(50, hb / 2))
    ;(watchdog as { unref?: () => void }).unref?.()
    setState('open')
    // Restore every subscription on the new connection, then send calls that waited.
    subscriptions.restore(s)
    calls.flush(s)
  }

  function lost(code: number, reason: string): void {
    const s = socket
    socket = undefined
    connId = undefined
    nodeId = undefined
    if (watchdog) clearInterval(watchdog)
    watchdog = undefined
    clearTimeout(handshakeTimer)
    if (s) {
      s.onopen = s.onmessage = s.onclose = null
      // Not null: the ws package throws an 'error' event that has no listener (closing a CONNECTING socket emits one).
      s.onerror = () => {}
    }
    const data: ConnectErrorData = { url: shownUrl, detail: failure?.detail ?? closeDetail(code, reason), code }
    if (reason) data.reason = reason
    lastError = connectError(data, welcomed, failure?.cause)
    subscriptions.dropped()
    const error = new RtError('CONNECTION_LOST', `Connection lost (${code}${reason ? `: ${reason}` : ''})`)
    calls.lost(error)
    // On a terminal code retrying cannot help: the client stops with its error.
    const terminal = errorForClose(code, reason)
    refresher.lost(terminal ?? error)
    if (closedForGood) return
    if (terminal) return giveUp(terminal, code, reason)
    if (options.offline === 'fail') calls.failWaiting(error)
    // A goaway earns one immediate retry; if that fails too, the normal backoff applies.
    const soon = goingAway
    goingAway = false
    scheduleRetry(code, reason, soon)
  }

  function scheduleRetry(code?: number, reason?: string, soon = false): void {
    if (closedForGood) return
    if (reconnect === false || attempt >= (reconnect.maxAttempts ?? Infinity)) {
      const last = lastError as RtError<ConnectErrorData> | undefined
      // A link that was open and dropped is one event, not a run of failed attempts.
      const error = !last?.data ? new RtError('CONNECTION_LOST', 'Could not connect') : welcomed ? last : gaveUpAfter(last, attempt + 1)
      return giveUp(error, code, reason)
    }
    // After a goaway the server asked us to move: go at once (with a little jitter), do not back off.
    const delay = soon ? backoffDelay(0, reconnect) : backoffDelay(attempt, reconnect)
    attempt++
    const info: Omit<StateChange, 'state'> = { attempt, delayMs: delay }
    if (code !== undefined) info.code = code
    if (reason !== undefined) info.reason = reason
    if (lastError) info.error = lastError
    retryTimer = setTimeout(() => void connect(), delay)
    setState(state === 'connecting' ? 'connecting' : 'reconnecting', info)
  }

  function offlineDetail(): string {
    const detail = (lastError?.data as ConnectErrorData | undefined)?.detail
    return detail ?? (state === 'open' ? 'the server is going away' : 'the first attempt has not finished yet')
  }

  function closedError(): RtError | undefined {
    if (!closedForGood) return undefined
    return finalError instanceof RtError ? finalError : new RtError('CONNECTION_LOST', 'Client is closed')
  }

  function giveUp(error: Error, code?: number, reason?: string): void {
    closedForGood = true
    finalError = error
    if (retryTimer) clearTimeout(retryTimer)
    clearTimeout(handshakeTimer)
    const lostError = error instanceof RtError ? error : new RtError('CONNECTION_LOST', error.message, undefined, { cause: error })
    lastError = lostError
    calls.failAll(lostError)
    refresher.lost(lostError)
    subscriptions.fail(lostError)
    const info: Omit<StateChange, 'state'> = { error }
    if (code !== undefined) info.code = code
    if (reason !== undefined) info.reason = reason
    setState('closed', info)
  }

  const callers: Record<string, (input?: unknown, opts?: CallOptions) => Promise<unknown>> = {}
  for (const name of view.procedures.keys()) callers[name] = (input, opts) => calls.call(name, input, opts)

  const readyWaiters = new Set<{ resolve: () => void; reject: (e: unknown) => void }>()
  stateListeners.add(({ state: s, error }) => {
    if (s !== 'open' && s !== 'closed') return
    for (const w of readyWaiters) s === 'open' ? w.resolve() : w.reject(error ?? new RtError('CONNECTION_LOST', 'Client is closed'))
    readyWaiters.clear()
  })

  const client = {
    call: Object.freeze(callers),
    on(event: string, listener: (payload: unknown) => void) {
      if (!view.events.has(event)) throw new RtError('NOT_FOUND', `Event "${event}" is not in role "${options.role}"'s vocabulary`)
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      const l = (p: unknown) => listener(p)
      set.add(l)
      return () => void set.delete(l)
    },
    subscribe: (topic: string, ...args: unknown[]) => subscriptions.subscribe(topic, args),
    get state() {
      return state
    },
    get connId() {
      return connId
    },
    get nodeId() {
      return nodeId
    },
    get lastError() {
      return lastError
    },
    onStateChange(listener: (change: StateChange) => void) {
      stateListeners.add(listener)
      return () => void stateListeners.delete(listener)
    },
    refreshAuth: () => refresher.refresh(),
    ready() {
      if (state === 'open') return Promise.resolve()
      if (closedForGood) return Promise.reject(finalError ?? new RtError('CONNECTION_LOST', 'Client is closed'))
      return new Promise<void>((resolve, reject) => readyWaiters.add({ resolve, reject }))
    },
    async close() {
      if (closedForGood && !socket) return
      const s = socket
      giveUp(new RtError('CONNECTION_LOST', 'Client closed'))
      socket = undefined
      if (watchdog) clearInterval(watchdog)
      if (s) {
        s.onmessage = null
        await new Promise<void>((resolve) => {
          if (s.readyState === 3) return resolve()
          s.onclose = () => resolve()
          try {
            s.close(CloseCode.NORMAL, 'client closed')
          } catch {
            resolve()
          }
          setTimeout(resolve, 1_000)
        })
        s.onclose = null
      }
    },
    [Symbol.asyncDispose]() {
      return client.close()
    },
  }
  void connect()
  return client as unknown as Client<C, R>
}
