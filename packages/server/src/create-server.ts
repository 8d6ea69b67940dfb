import { randomBytes } from 'node:crypto'
import { CloseCode, RtError, jsonEncoder, type AnyContract, type Bus, type Frame, type HistoryStore, type ServerFrame } from '@rt/contract'
import { RoomRegistry, type NativeFanout } from '@rt/rooms'
import { Addressing } from './cluster/addressing.js'
import { RoomHandle, targets, type ClusterParts } from './cluster/cluster-api.js'
import { Directory, type ConnectionQuery } from './cluster/directory.js'
import { createPresence } from './cluster/presence.js'
import { AuthRefresh, type AuthRefreshOptions } from './auth-refresh.js'
import { Codecs } from './codecs.js'
import { Connection, type NodeCore } from './connection.js'
import { createFrameTable } from './dispatch.js'
import { Handshakes } from './handshake.js'
import { createMemoryHistory } from './history/memory-history.js'
import { TopicHistory } from './topics/topic-history.js'
import { TopicHub, type Authorize } from './topics/topic-hub.js'
import { resolveLimits } from './limits.js'
import { createMemoryBus } from './memory-bus.js'
import { nativeFanout } from './native-fanout.js'
import { resolveRoles } from './roles.js'
import { countingBus } from './telemetry/bus-probe.js'
import { stderrLogger, type Logger } from './telemetry/logger.js'
import { loadOtel } from './telemetry/otel.js'
import { Telemetry } from './telemetry/telemetry.js'
import type { BaseContext, DisconnectReason, ErrorContext, Server, ServerOptions, ServerStats } from './types.js'

/** Without `onError`, errors go to the logger: one line each on stderr by default, as before. */
const logErrors =
  (logger: Logger) =>
  (error: unknown, context: ErrorContext): void => {
    const where = `${context.where}${context.procedure ? ` ${context.procedure}` : ''}${context.connId ? ` (conn ${context.connId})` : ''}`
    logger.error({ err: error, ...context }, `error in ${where}`)
  }

function originCheck(origins: ServerOptions<AnyContract, BaseContext>['origins']): (origin: string | undefined) => boolean {
  if (origins === undefined) return () => true
  if (typeof origins === 'function') return origins
  const allowed = new Set(origins)
  return (origin) => origin !== undefined && allowed.has(origin)
}

const DONE: Promise<void> = Promise.resolve()

/** Creates an @rt server node. Call `listen()` to start accepting connections. */
export function createServer<C extends AnyContract, Ctx extends BaseContext>(options: ServerOptions<C, Ctx>): Server<C, Ctx> {
  const { contract, transport } = options
  const { roles, shared, entries } = resolveRoles(contract, options.handlers as Record<string, Record<string, unknown>>)
  const limits = resolveLimits(options.limits)
  if (options.encoder && options.encoders) throw new TypeError('createServer: pass encoder or encoders, not both')
  const codecs = new Codecs(options.encoders ?? [options.encoder ?? jsonEncoder])
  // The canonical encoder: the bus's, and that of every connection on a single-codec node.
  const encoder = codecs.canonical
  const logger = options.logger ?? stderrLogger
  const report = options.onError ?? logErrors(logger)
  const telemetry = new Telemetry()
  // Resolved now, so it is there by `listen()`: an absent optional peer is just undefined.
  const otel = loadOtel()
  const nodeId = options.nodeId ?? randomBytes(6).toString('base64url')
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) throw new TypeError('createServer: nodeId must be 1-64 letters, digits, - or _')
  // Connection ids stay unique even if a restarted node reuses its nodeId.
  const incarnation = randomBytes(3).toString('base64url')
  const heartbeatMs = options.cluster?.heartbeatMs ?? 2_000
  const deadAfterMs = options.cluster?.deadAfterMs ?? 6_000
  if (!(heartbeatMs > 0 && deadAfterMs >= 2 * heartbeatMs)) {
    throw new TypeError('createServer: cluster.heartbeatMs must be positive and cluster.deadAfterMs at least twice it')
  }
  const PING = codecs.constant({ t: 'ping' })
  const { bus, counts: busCounts } = countingBus(options.bus ?? createMemoryBus({ logger }))
  const connections = new Map<string, Connection>()
  const { presence, emit: presenceEvent } = createPresence(() => directory, (e) => report(e, { where: 'listener' }))
  const directory = new Directory({
    bus,
    nodeId,
    onUser: presenceEvent,
    // Sent with each heartbeat, so any node can show every node's figures (the inspector).
    stats: () => {
      // Typed here: `server` is inferred from an object that reads `directory` back.
      const { topics: counts, totals } = server.stats() as ServerStats
      return { at: Date.now(), topics: counts, totals }
    },
    heartbeatMs,
    deadAfterMs,
    report: (e) => report(e, { where: 'bus' }),
  })
  const addressing = new Addressing(bus, nodeId, directory, (id) => connections.get(id), telemetry, codecs)
  // A transport with native pub/sub fans out rooms and topics on this node with one call (per codec in use).
  const publish = transport.publish?.bind(transport)
  const native: NativeFanout<Connection> | undefined = publish && nativeFanout(codecs, publish)
  // A node serving several codecs writes each member that native pub/sub does not reach in its own.
  const multi = codecs.list.length > 1 ? codecs : undefined
  const rooms = new RoomRegistry<Connection>({
    bus,
    nodeId,
    ...(native && { native }),
    ...(multi && { deliver: (members: Iterable<Connection>, frame: Frame, source: unknown) => multi.deliver(members, frame, source as ServerFrame | undefined) }),
    onChange: (room, conn, joined) => (joined ? directory.joinRoom(room, conn.id) : directory.leaveRoom(room, conn.id)),
    probe: telemetry.roomProbe(),
  })
  // Resolved on first use: a server whose contract has no history topic never opens a store.
  let store: HistoryStore | undefined
  let ownStore = false
  const historyStore = (): HistoryStore => {
    if (store) return store
    store = options.history ?? (bus as Bus & { history?: HistoryStore }).history
    if (!store) {
      store = createMemoryHistory()
      ownStore = true
    }
    return store
  }
  const history = new TopicHistory({
    store: historyStore,
    encode: (f, codec) => codecs.list[codec]!.encode(f),
    flush: () => bus.flush(),
    maxRecovery: limits.maxRecovery,
    recoveryTimeoutMs: limits.recoveryTimeoutMs,
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
    ...(multi && { codecs: multi }),
    authorizer: (role, scope, topic) => (topicGates[role]?.[topic] ?? (scope === 'shared' ? topicGates.shared?.[topic] : undefined))?.authorize,
    maxSubscriptions: limits.maxSubscriptions,
    maxInputDepth: limits.maxInputDepth,
    history,
    report: (e) => report(e, { where: 'listener' }),
    telemetry,
  })
  let seq = 0
  let listening = false
  let draining = false
  let closing: Promise<void> | undefined
  let sweep: ReturnType<typeof setInterval> | undefined

  const refresher = new AuthRefresh({
    refreshAheadMs: limits.refreshAheadMs,
    authenticate: options.authenticate as AuthRefreshOptions['authenticate'],
    report,
  })

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
    validateOutput: options.validateOutput ?? process.env.NODE_ENV !== 'production',
    get draining() {
      return draining
    },
    frames: createFrameTable(codecs, topics, refresher),
    report,
    telemetry,
    detach(conn: Connection, reason: DisconnectReason) {
      if (!connections.delete(conn.id)) return
      codecs.count(conn.codec, -1)
      refresher.drop(conn)
      telemetry.closed(conn.role, reason.code)
      rooms.removeAll(conn)
      topics.drop(conn)
      directory.removeConn(conn.id)
      if (options.onDisconnect) {
        safely('onDisconnect', conn.id, () => options.onDisconnect?.(conn as never, conn.ctx as Ctx, reason))
      }
    },
  }

  const handshakes = new Handshakes({
    limits,
    codecs,
    roles: entries,
    get draining() {
      return draining
    },
    allowOrigin: originCheck(options.origins),
    authenticate: options.authenticate as (input: unknown) => Ctx | Promise<Ctx>,
    onConnection: options.onConnection as ((conn: Connection, ctx: BaseContext) => unknown) | undefined,
    connect(entry, ctx, socket, codec) {
      const conn = new Connection(`${nodeId}.${incarnation}${(++seq).toString(36)}`, entry, ctx, socket, core, codec, codecs.list[codec])
      connections.set(conn.id, conn)
      codecs.count(codec, 1)
      directory.addConn(conn.id, ctx.user.id, conn.role, conn.since)
      telemetry.accepted(conn.role)
      return conn
    },
    watch: (conn, request) => refresher.watch(conn, request),
    detach: (conn, reason) => core.detach(conn, reason),
    report,
    telemetry,
  })

  function heartbeat(): void {
    const deadline = performance.now() - limits.heartbeatTimeoutMs
    for (const conn of connections.values()) {
      if (conn.lastSeen < deadline) conn.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
      else conn.send(PING.get(conn.codec))
    }
  }

  async function shutdown(): Promise<void> {
    draining = true
    if (sweep) clearInterval(sweep)
    const goaway = codecs.constant({ t: 'goaway', reason: 'shutdown' })
    const open = [...connections.values()]
    for (const conn of open) conn.send(goaway.get(conn.codec))
    handshakes.closeAll()
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
    // A store given in the options, or the bus's own, belongs to whoever made it.
    if (ownStore) await store?.close()
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
    publish: (topic: string, payload: unknown, params?: unknown) => topics.publish(role, topic, payload, params) ?? DONE,
    history: (topic: string, ...args: unknown[]) => topics.history(role, topic, args),
    subscribe: (topic: string, ...args: unknown[]) => {
      const listener = args.pop() as Parameters<TopicHub['listen']>[4]
      if (typeof listener !== 'function') throw new TypeError('subscribe needs a listener function')
      return topics.listen(role, topic, args[0], args.length > 0, listener)
    },
  })

  const server = {
    nodeId,
    connections,
    room: (name: string) => new RoomHandle(parts, name),
    rooms: async () => directory.roomNames(),
    toConn: sharedTargets.toConn,
    toUser: sharedTargets.toUser,
    ...topicApi(null),
    forRole: (role: string) => ({ ...targets(parts, role), ...topicApi(role) }),
    nodes: () => directory.nodeList(),
    fetchConnections: async (query?: ConnectionQuery) => directory.connections(query),
    presence,
    stats: () => ({
      connections: connections.size,
      handshakes: handshakes.pending.size,
      rooms: rooms.count,
      // One subscription per local room, per topic stream and listener, plus the node's own.
      busSubscriptions: addressing.subscriptions + rooms.count + directory.subscriptions + topics.busSubscriptions,
      history: { ...history.stats },
      roles: directory.roleCounts(),
      topics: topics.subscriptionCounts(),
      totals: { ...telemetry.totals },
    }),
    async listen() {
      if (closing) throw new Error('server is closed')
      if (listening) throw new Error('server is already listening')
      const subscribed = new Map<string, number>()
      telemetry.start(await otel, {
        bus: busCounts,
        // Every role and every topic seen so far, at 0 when none is left: a series that stops being observed is dropped.
        connections: () => {
          const perRole = new Map<string, number>([...entries.keys()].map((r) => [r, 0]))
          for (const c of connections.values()) perRole.set(c.role, (perRole.get(c.role) ?? 0) + 1)
          return perRole
        },
        subscriptions: () => {
          for (const t of subscribed.keys()) subscribed.set(t, 0)
          for (const [t, n] of Object.entries(topics.subscriptionCounts())) subscribed.set(t, n)
          return subscribed
        },
        nodes: () => directory.nodeList().length,
        history: () => server.stats().history,
      })
      addressing.start()
      directory.start()
      // Our subscriptions are registered on the bus before the first client arrives.
      await bus.flush()
      const address = await transport.listen(handshakes, { maxFrameBytes: limits.maxFrameBytes, maxBufferedBytes: limits.maxBufferedBytes })
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
