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
    report: (e) => report(e, { where: 'listener' }),
  })
  const handshaking = new Set<TransportSocket>()
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
      if (frame.t === 'sub') void topics.subscribeConn(conn, frame)
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
    // The reason is a close-frame string: at most 123 bytes.
    const reason = e.message.slice(0, 120)
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
      socket.close(CloseCode.UNAUTHORIZED, `unknown role "${hello.role.slice(0, 64)}"`)
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

  const handler: TransportHandler = {
    upgrade() {
      return draining ? { status: 503, message: 'Server shutting down' } : true
    },
    open(socket, request): SocketListener {
      let conn: Connection | null = null
      let phase: 'hello' | 'auth' | 'open' | 'gone' = 'hello'
      let goneReason: DisconnectReason = { code: CloseCode.NORMAL, reason: '' }
      // A refused origin is told with a close code (not an HTTP status), so the client stops retrying.
      if (!allowOrigin(request.headers.origin)) {
        socket.close(CloseCode.FORBIDDEN, 'origin not allowed')
        return { message() {}, close() {} }
      }
      // Handshake state, released once the handshake ends: an open connection keeps neither
      // the upgrade request (headers) nor the timer nor the queue (~0.6 KiB per connection).
      let req: TransportRequest | undefined = request
      let early: Frame[] = []
      handshaking.add(socket)
      let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => socket.close(CloseCode.HANDSHAKE_TIMEOUT, 'handshake timeout'), limits.handshakeTimeoutMs)
      const endHandshake = () => {
        clearTimeout(timer)
        timer = req = undefined
        handshaking.delete(socket)
      }
      return {
        message(data) {
          if (phase === 'open') return conn?.receive(data)
          if (phase === 'auth') {
            // Frames pipelined behind the hello wait for authentication; a flood is a protocol error.
            if (early.length < 1024) early.push(data)
            else socket.close(CloseCode.PROTOCOL_ERROR, 'too many frames before the connection was ready')
            return
          }
          if (phase !== 'hello') return
          let frame
          try {
            frame = parseClientFrame(encoder.decode(data))
          } catch {
            frame = null
          }
          if (frame?.t !== 'hello') {
            socket.close(CloseCode.PROTOCOL_ERROR, 'expected hello')
            return
          }
          phase = 'auth'
          admit(socket, req!, frame, () => phase === 'gone').then(
            (c) => {
              endHandshake()
              if (!c) return
              if (phase === 'gone') {
                // The socket closed while onConnection ran: report its real close.
                c.closed = true
                core.detach(c, goneReason)
                return
              }
              conn = c
              phase = 'open'
              const queued = early
              early = []
              for (const f of queued) c.receive(f)
            },
            (e: unknown) => {
              endHandshake()
              report(e, { where: 'authenticate' })
              socket.close(CloseCode.UNAUTHORIZED, 'unauthorized')
            },
          )
        },
        close(code, reason) {
          phase = 'gone'
          goneReason = { code, reason }
          endHandshake()
          if (conn && !conn.closed) {
            conn.closed = true
            core.detach(conn, { code, reason })
          }
        },
      }
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
