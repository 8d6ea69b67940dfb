import { randomBytes } from 'node:crypto'
import {
  CloseCode,
  PROTOCOL_VERSION,
  RtError,
  indexContract,
  jsonEncoder,
  parseClientFrame,
  type AnyContract,
  type Frame,
  type HelloFrame,
} from '@rt/contract'
import { RoomRegistry, type NativeFanout } from '@rt/rooms'
import { Addressing } from './cluster/addressing.js'
import { roomHandle, targets, type ClusterParts } from './cluster/cluster-api.js'
import { Directory } from './cluster/directory.js'
import { createPresence } from './cluster/presence.js'
import { closeReason } from './close-reason.js'
import { Connection, type NodeCore } from './connection.js'
import { TopicHub, type Authorize } from './topics/topic-hub.js'
import { resolveLimits } from './limits.js'
import { createMemoryBus } from './memory-bus.js'
import type { SocketListener, TransportHandler, TransportRequest, TransportSocket } from './transport.js'
import type { BaseContext, DisconnectReason, ErrorContext, Server, ServerOptions } from './types.js'

type AnyHandler = (input: unknown, ctx: BaseContext, conn: Connection) => unknown

function defaultOnError(error: unknown, context: ErrorContext): void {
  const where = `${context.where}${context.procedure ? ` ${context.procedure}` : ''}${context.connId ? ` (conn ${context.connId})` : ''}`
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
  process.stderr.write(`[@rt/server] error in ${where}: ${detail}\n`)
}

const frameSize = (data: Frame): number => (typeof data === 'string' ? data.length : data.byteLength)

function originCheck(origins: ServerOptions<AnyContract, BaseContext>['origins']): (origin: string | undefined) => boolean {
  if (origins === undefined) return () => true
  if (typeof origins === 'function') return origins
  const allowed = new Set(origins)
  return (origin) => origin !== undefined && allowed.has(origin)
}

/** Collects the handlers into role → procedure → function, failing fast on any missing one. */
function resolveHandlers(contract: AnyContract, handlers: Record<string, Record<string, unknown> | undefined>) {
  const { roles, shared } = indexContract(contract)
  const table = new Map<string, Map<string, AnyHandler>>()
  const missing: string[] = []
  for (const [role, view] of roles) {
    const t = new Map<string, AnyHandler>()
    for (const name of view.procedures.keys()) {
      const isShared = Object.hasOwn(contract.shared.clientToServer ?? {}, name)
      const group = isShared ? handlers.shared : handlers[role]
      const fn = group && Object.hasOwn(group, name) ? group[name] : undefined
      if (typeof fn === 'function') t.set(name, fn as AnyHandler)
      else missing.push(isShared ? `shared.${name}` : `${role}.${name}`)
    }
    table.set(role, t)
  }
  if (missing.length > 0) throw new TypeError(`createServer: missing handlers for ${[...new Set(missing)].join(', ')}`)
  return { roles, shared, table }
}

/** Creates an @rt server node. Call `listen()` to start accepting connections. */
export function createServer<C extends AnyContract, Ctx extends BaseContext>(options: ServerOptions<C, Ctx>): Server<C, Ctx> {
  const { contract, transport } = options
  const { roles, shared, table } = resolveHandlers(contract, options.handlers as Record<string, Record<string, unknown>>)
  const limits = resolveLimits(options.limits)
  const encoder = options.encoder ?? jsonEncoder
  const report = options.onError ?? defaultOnError
  const allowOrigin = originCheck(options.origins)
  const nodeId = options.nodeId ?? randomBytes(6).toString('base64url')
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) throw new TypeError('createServer: nodeId must be 1-64 letters, digits, - or _')
  // Connection ids stay unique even if a restarted node reuses its nodeId.
  const incarnation = randomBytes(3).toString('base64url')
  const heartbeatMs = options.cluster?.heartbeatMs ?? 2_000
  const deadAfterMs = options.cluster?.deadAfterMs ?? 6_000
  if (!(heartbeatMs > 0 && deadAfterMs >= 2 * heartbeatMs)) {
    throw new TypeError('createServer: cluster.heartbeatMs must be positive and cluster.deadAfterMs at least twice it')
  }
  const PING = encoder.encode({ t: 'ping' })
  const bus = options.bus ?? createMemoryBus()
  const connections = new Map<string, Connection>()
  const { presence, emit: presenceEvent } = createPresence(() => directory, (e) => report(e, { where: 'listener' }))
  const directory = new Directory({
    bus,
    nodeId,
    onUser: presenceEvent,
    heartbeatMs,
    deadAfterMs,
    report: (e) => report(e, { where: 'bus' }),
  })
  const addressing = new Addressing(bus, nodeId, directory, (id) => connections.get(id))
  // A transport with native pub/sub fans out rooms and topics on this node with one call.
  const publish = transport.publish?.bind(transport)
  const native: NativeFanout<Connection> | undefined = publish && {
    subscribe: (c, channel) => c.socket.subscribe?.(channel),
    unsubscribe: (c, channel) => c.socket.unsubscribe?.(channel),
    publish,
  }
  const rooms = new RoomRegistry<Connection>({
    bus,
    nodeId,
    ...(native && { native }),
    onChange: (room, conn, joined) => (joined ? directory.joinRoom(room, conn.id) : directory.leaveRoom(room, conn.id)),
  })
  const topicGates = (options.topics ?? {}) as Record<string, Record<string, { authorize?: Authorize } | undefined> | undefined>
  const topics = new TopicHub({
    bus,
    nodeId,
    ...(native && { native }),
    shared,
    roles,
    encode: (f) => encoder.encode(f),
    decode: (f) => encoder.decode(f),
    authorizer: (role, scope, topic) => (topicGates[role]?.[topic] ?? (scope === 'shared' ? topicGates.shared?.[topic] : undefined))?.authorize,
    maxSubscriptions: limits.maxSubscriptions,
    maxInputDepth: limits.maxInputDepth,
    report: (e) => report(e, { where: 'listener' }),
  })
  const handshaking = new Set<TransportSocket>()
  // Sockets past the origin check, open or in their handshake; per remote address when capped.
  let sockets = 0
  const perIp = limits.maxConnectionsPerIp < Infinity ? new Map<string, number>() : undefined
  // Bytes of frames held across every socket that is authenticating.
  let heldBytes = 0
  let seq = 0
  let listening = false
  let draining = false
  let closing: Promise<void> | undefined
  let sweep: ReturnType<typeof setInterval> | undefined

  const safely = (where: ErrorContext['where'], connId: string, fn: () => unknown): void => {
    try {
      const r = fn()
      if (r instanceof Promise) r.catch((e: unknown) => report(e, { where, connId }))
    } catch (e) {
      report(e, { where, connId })
    }
  }

  const core: NodeCore = {
    nodeId,
    encoder,
    limits,
    pong: encoder.encode({ t: 'pong' }),
    validateOutput: options.validateOutput ?? process.env.NODE_ENV !== 'production',
    get draining() {
      return draining
    },
    handler: (role, procedure) => table.get(role)?.get(procedure),
    report,
    onFrame(conn, frame) {
      if (frame.t === 'sub') topics.subscribeConn(conn, frame).catch((e: unknown) => conn.fault(e, frame.id))
      else if (frame.t === 'unsub') topics.unsubscribeConn(conn, frame)
      else return false
      return true
    },
    detach(conn: Connection, reason: DisconnectReason) {
      if (!connections.delete(conn.id)) return
      rooms.removeAll(conn)
      topics.drop(conn)
      directory.removeConn(conn.id)
      if (options.onDisconnect) {
        safely('onDisconnect', conn.id, () => options.onDisconnect?.(conn as never, conn.ctx as Ctx, reason))
      }
    },
  }

  /** Why `authenticate` refused, as a close code: only FORBIDDEN and passing failures differ from 4001. */
  function refusal(e: unknown): [number, string] {
    if (!(e instanceof RtError)) return [CloseCode.UNAUTHORIZED, 'unauthorized']
    const reason = closeReason(e.message)
    if (e.code === 'FORBIDDEN') return [CloseCode.FORBIDDEN, reason]
    if (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT' || e.code === 'RATE_LIMITED') return [CloseCode.TRY_AGAIN_LATER, reason]
    return [CloseCode.UNAUTHORIZED, reason]
  }

  async function admit(socket: TransportSocket, request: TransportRequest, hello: HelloFrame, gone: () => boolean): Promise<Connection | null> {
    if (hello.v !== PROTOCOL_VERSION) {
      socket.close(CloseCode.UNSUPPORTED_VERSION, `protocol version ${PROTOCOL_VERSION} required`)
      return null
    }
    const view = roles.get(hello.role)
    if (!view) {
      socket.close(CloseCode.UNAUTHORIZED, closeReason(`unknown role "${hello.role}"`))
      return null
    }
    let ctx: Ctx
    try {
      ctx = await options.authenticate({ role: hello.role, auth: hello.auth, request })
      if (typeof ctx?.user?.id !== 'string' || ctx.user.id === '') throw new TypeError('authenticate must return { user: { id: string } }')
    } catch (e) {
      if (!(e instanceof RtError)) report(e, { where: 'authenticate' })
      socket.close(...refusal(e))
      return null
    }
    if (gone()) return null
    if (draining) {
      socket.close(CloseCode.GOING_AWAY, 'server shutting down')
      return null
    }
    const conn = new Connection(`${nodeId}.${incarnation}${(++seq).toString(36)}`, hello.role, ctx, view, socket, core)
    connections.set(conn.id, conn)
    directory.addConn(conn.id, ctx.user.id, conn.role, conn.since)
    conn.send(encoder.encode({ t: 'welcome', v: PROTOCOL_VERSION, conn: conn.id, node: nodeId, hb: limits.heartbeatIntervalMs, mf: limits.maxFrameBytes }))
    // Frames the client sends after the welcome wait until onConnection is done (rooms are set up by then).
    if (options.onConnection) {
      try {
        await options.onConnection(conn as never, ctx)
      } catch (e) {
        report(e, { where: 'onConnection', connId: conn.id })
      }
    }
    return conn.closed ? null : conn
  }

  /**
   * One socket: its handshake, then its Connection. A class rather than closures, so an open
   * socket costs one small object; the handshake's request, timer and held frames are released
   * once it ends.
   */
  class Session implements SocketListener {
    conn: Connection | null = null
    phase: 'hello' | 'auth' | 'open' | 'gone' = 'hello'
    goneReason: DisconnectReason | undefined
    req: TransportRequest | undefined
    early: Frame[] | undefined
    held = 0
    timer: ReturnType<typeof setTimeout> | undefined
    readonly address: string

    constructor(
      readonly socket: TransportSocket,
      request: TransportRequest,
    ) {
      this.req = request
      this.address = request.remoteAddress
      sockets++
      if (perIp) perIp.set(this.address, (perIp.get(this.address) ?? 0) + 1)
      handshaking.add(socket)
      this.timer = setTimeout(() => socket.close(CloseCode.HANDSHAKE_TIMEOUT, 'handshake timeout'), limits.handshakeTimeoutMs)
    }

    message(data: Frame): void {
      // The guard for what happens before a Connection exists (a Connection guards its own frames).
      try {
        if (this.phase === 'open') this.conn?.receive(data)
        else if (this.phase === 'auth') this.hold(data)
        else if (this.phase === 'hello') this.hello(data)
      } catch (e) {
        report(e, { where: 'frame' })
        this.refuse(CloseCode.PROTOCOL_ERROR, 'internal error')
      }
    }

    close(code: number, reason: string): void {
      sockets--
      if (perIp) {
        const n = (perIp.get(this.address) ?? 1) - 1
        if (n > 0) perIp.set(this.address, n)
        else perIp.delete(this.address)
      }
      this.phase = 'gone'
      this.goneReason = { code, reason }
      this.endHandshake()
      const conn = this.conn
      if (conn && !conn.closed) {
        conn.closed = true
        core.detach(conn, { code, reason })
      }
    }

    private endHandshake(): void {
      if (this.timer === undefined && this.held === 0) return
      clearTimeout(this.timer)
      this.timer = this.req = undefined
      handshaking.delete(this.socket)
      heldBytes -= this.held
      this.held = 0
    }

    private refuse(code: number, reason: string): void {
      this.phase = 'gone'
      this.goneReason = { code, reason }
      this.early = undefined
      this.endHandshake()
      this.socket.close(code, reason)
    }

    /** Frames pipelined behind the hello wait for authentication, bounded per socket and in total. */
    private hold(data: Frame): void {
      const size = frameSize(data)
      const early = (this.early ??= [])
      if (early.length >= 1024 || this.held + size > limits.maxHandshakeBytes) {
        return this.refuse(CloseCode.PROTOCOL_ERROR, 'too much sent before the connection was ready')
      }
      if (heldBytes + size > limits.maxHandshakeBytesTotal) return this.refuse(CloseCode.TRY_AGAIN_LATER, 'server busy')
      early.push(data)
      this.held += size
      heldBytes += size
    }

    private hello(data: Frame): void {
      let frame
      try {
        frame = parseClientFrame(encoder.decode(data))
      } catch {
        frame = null
      }
      if (frame?.t !== 'hello') return this.refuse(CloseCode.PROTOCOL_ERROR, 'expected hello')
      this.phase = 'auth'
      admit(this.socket, this.req!, frame, () => this.phase === 'gone')
        .then(
          (c) => this.opened(c),
          (e: unknown) => {
            report(e, { where: 'authenticate' })
            this.refuse(CloseCode.UNAUTHORIZED, 'unauthorized')
          },
        )
        .catch((e: unknown) => {
          report(e, { where: 'frame' })
          this.refuse(CloseCode.PROTOCOL_ERROR, 'internal error')
        })
    }

    private opened(c: Connection | null): void {
      this.endHandshake()
      if (!c) return
      if (this.phase === 'gone') {
        // The socket closed while onConnection ran: report its real close.
        c.closed = true
        core.detach(c, this.goneReason ?? { code: CloseCode.NORMAL, reason: '' })
        return
      }
      this.conn = c
      this.phase = 'open'
      const queued = this.early
      this.early = undefined
      if (queued) for (const f of queued) c.receive(f)
    }
  }

  const handler: TransportHandler = {
    // Admission before a socket exists: the cheapest place to refuse a flood.
    upgrade(request) {
      if (draining) return { status: 503, message: 'Server shutting down' }
      if (handshaking.size >= limits.maxHandshakes) return { status: 503, message: 'Too many handshakes in progress' }
      if (sockets >= limits.maxConnections) return { status: 503, message: 'Too many connections' }
      if (perIp && (perIp.get(request.remoteAddress) ?? 0) >= limits.maxConnectionsPerIp) {
        return { status: 429, message: 'Too many connections from this address' }
      }
      return true
    },
    open(socket, request): SocketListener {
      // A refused origin is told with a close code (not an HTTP status), so the client stops retrying.
      if (!allowOrigin(request.headers.origin)) {
        socket.close(CloseCode.FORBIDDEN, 'origin not allowed')
        return { message() {}, close() {} }
      }
      return new Session(socket, request)
    },
  }

  function heartbeat(): void {
    const deadline = performance.now() - limits.heartbeatTimeoutMs
    for (const conn of connections.values()) {
      if (conn.lastSeen < deadline) conn.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
      else conn.send(PING)
    }
  }

  async function shutdown(): Promise<void> {
    draining = true
    if (sweep) clearInterval(sweep)
    const goaway = encoder.encode({ t: 'goaway', reason: 'shutdown' })
    const open = [...connections.values()]
    for (const conn of open) conn.send(goaway)
    for (const socket of handshaking) socket.close(CloseCode.GOING_AWAY, 'server shutting down')
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.all(open.map((c) => c.settledCalls())),
      new Promise<void>((r) => (timer = setTimeout(r, limits.closeTimeoutMs))),
    ])
    clearTimeout(timer)
    const lost = new RtError('UNAVAILABLE', 'Server shut down before the call finished')
    for (const conn of open) {
      conn.failInFlight(lost)
      conn.close(CloseCode.GOING_AWAY, 'server shutting down')
    }
    if (listening) await transport.close()
    rooms.close()
    topics.close()
    addressing.stop()
    directory.stop()
    await bus.close()
  }

  const parts: ClusterParts = {
    rooms,
    addressing,
    directory,
    shared,
    roles,
    validateOutput: core.validateOutput,
    encode: (f) => encoder.encode(f),
  }
  const sharedTargets = targets(parts, null)
  const topicApi = (role: string | null) => ({
    publish: (topic: string, payload: unknown, params?: unknown) => topics.publish(role, topic, payload, params),
    subscribe: (topic: string, ...args: unknown[]) => {
      const listener = args.pop() as Parameters<TopicHub['listen']>[4]
      if (typeof listener !== 'function') throw new TypeError('subscribe needs a listener function')
      return topics.listen(role, topic, args[0], args.length > 0, listener)
    },
  })

  const server = {
    nodeId,
    connections,
    room: (name: string) => roomHandle(parts, name),
    rooms: async () => directory.roomNames(),
    toConn: sharedTargets.toConn,
    toUser: sharedTargets.toUser,
    ...topicApi(null),
    forRole: (role: string) => ({ ...targets(parts, role), ...topicApi(role) }),
    nodes: () => directory.nodeList(),
    presence,
    stats: () => ({
      connections: connections.size,
      rooms: rooms.count,
      // One subscription per local room, per topic stream and listener, plus the node's own.
      busSubscriptions: addressing.subscriptions + rooms.count + directory.subscriptions + topics.busSubscriptions,
    }),
    async listen() {
      if (closing) throw new Error('server is closed')
      if (listening) throw new Error('server is already listening')
      addressing.start()
      directory.start()
      // Our subscriptions are registered on the bus before the first client arrives.
      await bus.flush()
      const address = await transport.listen(handler, { maxFrameBytes: limits.maxFrameBytes, maxBufferedBytes: limits.maxBufferedBytes })
      listening = true
      sweep = setInterval(heartbeat, limits.heartbeatIntervalMs)
      sweep.unref()
      return address
    },
    close() {
      closing ??= shutdown()
      return closing
    },
    [Symbol.asyncDispose]() {
      return server.close()
    },
  }
  return server as unknown as Server<C, Ctx>
}
