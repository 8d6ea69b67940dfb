import { CloseCode, PROTOCOL_VERSION, RtError, closeCodeFor, decodeClientFrame, type Encoder, type Frame, type HelloFrame, type WelcomeFrame } from '@rt/contract'
import type { Codecs } from './codecs.js'
import { checkCtx } from './auth-refresh.js'
import { closeReason } from './close-reason.js'
import type { Connection } from './connection.js'
import type { Limits } from './limits.js'
import type { RoleEntry } from './roles.js'
import type { Telemetry } from './telemetry/telemetry.js'
import type { SocketListener, TransportHandler, TransportRequest, TransportSocket } from './transport.js'
import type { BaseContext, DisconnectReason, ErrorContext } from './types.js'

/** What the handshake needs from its node. */
export interface HandshakeOptions {
  readonly limits: Limits
  /** The codecs the node serves; a socket's is chosen by the subprotocol it offered. */
  readonly codecs: Codecs
  readonly roles: ReadonlyMap<string, RoleEntry>
  readonly draining: boolean
  allowOrigin(origin: string | undefined): boolean
  authenticate(input: { role: string; auth: unknown; request: TransportRequest }): BaseContext | Promise<BaseContext>
  onConnection: ((conn: Connection, ctx: BaseContext) => unknown) | undefined
  /** Makes and registers the Connection of a socket `authenticate` accepted. */
  connect(entry: RoleEntry, ctx: BaseContext, socket: TransportSocket, codec: number): Connection
  /** Starts the expiry clock of a connection whose ctx has `expiresAt`. */
  watch(conn: Connection, request: TransportRequest): void
  detach(conn: Connection, reason: DisconnectReason): void
  report(error: unknown, context: ErrorContext): void
  readonly telemetry: Telemetry
}

const frameSize = (data: Frame): number => (typeof data === 'string' ? data.length : data.byteLength)

/** Every inbound frame of a socket, handshake included, counted once. */
function count(hs: Handshakes, data: Frame): void {
  const totals = hs.o.telemetry.totals
  totals.framesIn++
  totals.bytesIn += frameSize(data)
}

const IGNORED: SocketListener = { message() {}, close() {} }

/**
 * Every socket from its upgrade to its Connection: admission caps, the origin check, then
 * hello → authenticate → welcome → onConnection → the frames held meanwhile.
 */
export class Handshakes implements TransportHandler {
  /** Sockets open and not yet authenticated. */
  readonly pending = new Set<TransportSocket>()
  // Sockets past the origin check, open or in their handshake; per remote address when capped.
  sockets = 0
  readonly perIp: Map<string, number> | undefined
  // Bytes of frames held across every socket that is authenticating.
  heldBytes = 0

  constructor(readonly o: HandshakeOptions) {
    this.perIp = o.limits.maxConnectionsPerIp < Infinity ? new Map() : undefined
  }

  // Admission before a socket exists: the cheapest place to refuse a flood.
  upgrade(request: TransportRequest): true | { status: number; message: string } {
    const { limits } = this.o
    if (this.o.draining) return { status: 503, message: 'Server shutting down' }
    if (this.pending.size >= limits.maxHandshakes) return { status: 503, message: 'Too many handshakes in progress' }
    if (this.sockets >= limits.maxConnections) return { status: 503, message: 'Too many connections' }
    if (this.perIp && (this.perIp.get(request.remoteAddress) ?? 0) >= limits.maxConnectionsPerIp) {
      return { status: 429, message: 'Too many connections from this address' }
    }
    return true
  }

  protocol(request: TransportRequest): string | undefined {
    return this.o.codecs.select(request).protocol
  }

  open(socket: TransportSocket, request: TransportRequest): SocketListener {
    // A refused origin is told with a close code (not an HTTP status), so the client stops retrying.
    if (!this.o.allowOrigin(request.headers.origin)) {
      this.o.telemetry.refused(CloseCode.FORBIDDEN)
      socket.close(CloseCode.FORBIDDEN, 'origin not allowed')
      return IGNORED
    }
    const { codec, protocol } = this.o.codecs.select(request)
    // Told with a close code, so that the client stops, rather than frames it could not read.
    if (codec < 0) {
      this.o.telemetry.refused(CloseCode.UNSUPPORTED_CODEC)
      const served = this.o.codecs.list.map((e) => e.name).join(', ')
      socket.close(CloseCode.UNSUPPORTED_CODEC, closeReason(`codec ${protocol ?? ''} not served (served: ${served})`))
      return IGNORED
    }
    return new Session(this, socket, request, codec)
  }

  /** A socket past the origin check is gone: its place under the caps is free again. */
  release(address: string): void {
    this.sockets--
    if (this.perIp) {
      const n = (this.perIp.get(address) ?? 1) - 1
      if (n > 0) this.perIp.set(address, n)
      else this.perIp.delete(address)
    }
  }

  /** Shutdown: sockets still in their handshake are closed with 1001. */
  closeAll(): void {
    for (const socket of this.pending) socket.close(CloseCode.GOING_AWAY, 'server shutting down')
  }
}

/**
 * One socket's handshake. A class rather than closures; its request, timer and held frames are
 * released once it ends, and then the socket goes to the connection's `Link` (itself released
 * where the transport can `rebind`; forwarding to the Link where it cannot).
 */
class Session implements SocketListener {
  /** The connection's listener once the handshake is over: what this forwards to if the transport cannot rebind. */
  link: Link | undefined
  phase: 'hello' | 'auth' | 'open' | 'gone' = 'hello'
  goneReason: DisconnectReason | undefined
  req: TransportRequest | undefined
  early: Frame[] | undefined
  held = 0
  timer: ReturnType<typeof setTimeout> | undefined
  readonly address: string
  readonly encoder: Encoder

  constructor(
    private readonly hs: Handshakes,
    readonly socket: TransportSocket,
    request: TransportRequest,
    readonly codec: number,
  ) {
    this.encoder = hs.o.codecs.list[codec]!
    this.req = request
    this.address = request.remoteAddress
    hs.sockets++
    if (hs.perIp) hs.perIp.set(this.address, (hs.perIp.get(this.address) ?? 0) + 1)
    hs.pending.add(socket)
    this.timer = setTimeout(() => socket.close(CloseCode.HANDSHAKE_TIMEOUT, 'handshake timeout'), hs.o.limits.handshakeTimeoutMs)
  }

  message(data: Frame): void {
    if (this.link) return this.link.message(data)
    // Every frame of the socket is counted here or, once it is open, by its Link.
    count(this.hs, data)
    // The guard for what happens before a Connection exists (a Connection guards its own frames).
    try {
      if (this.phase === 'auth') this.hold(data)
      else if (this.phase === 'hello') this.hello(data)
    } catch (e) {
      this.hs.o.report(e, { where: 'frame' })
      this.refuse(CloseCode.PROTOCOL_ERROR, 'internal error')
    }
  }

  close(code: number, reason: string): void {
    if (this.link) return this.link.close(code, reason)
    this.hs.release(this.address)
    this.phase = 'gone'
    this.goneReason = { code, reason }
    this.endHandshake()
  }

  private endHandshake(): void {
    if (this.timer === undefined && this.held === 0) return
    clearTimeout(this.timer)
    this.timer = this.req = undefined
    this.hs.pending.delete(this.socket)
    this.hs.heldBytes -= this.held
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
    const { limits } = this.hs.o
    const size = frameSize(data)
    const early = (this.early ??= [])
    if (early.length >= 1024 || this.held + size > limits.maxHandshakeBytes) {
      return this.refuse(CloseCode.PROTOCOL_ERROR, 'too much sent before the connection was ready')
    }
    if (this.hs.heldBytes + size > limits.maxHandshakeBytesTotal) return this.refuse(CloseCode.TRY_AGAIN_LATER, 'server busy')
    early.push(data)
    this.held += size
    this.hs.heldBytes += size
  }

  private hello(data: Frame): void {
    const frame = decodeClientFrame(this.encoder, data)
    if (frame?.t !== 'hello') return this.refuse(CloseCode.PROTOCOL_ERROR, 'expected hello')
    this.phase = 'auth'
    this.admit(this.req!, frame)
      .then(
        (c) => this.opened(c),
        (e: unknown) => {
          this.hs.o.report(e, { where: 'authenticate' })
          this.hs.o.telemetry.refused(CloseCode.UNAUTHORIZED)
          this.refuse(CloseCode.UNAUTHORIZED, 'unauthorized')
        },
      )
      .catch((e: unknown) => {
        this.hs.o.report(e, { where: 'frame' })
        this.refuse(CloseCode.PROTOCOL_ERROR, 'internal error')
      })
  }

  private async admit(request: TransportRequest, hello: HelloFrame): Promise<Connection | null> {
    const { o } = this.hs
    const socket = this.socket
    if (hello.v !== PROTOCOL_VERSION) {
      o.telemetry.refused(CloseCode.UNSUPPORTED_VERSION)
      socket.close(CloseCode.UNSUPPORTED_VERSION, `protocol version ${PROTOCOL_VERSION} required`)
      return null
    }
    const entry = o.roles.get(hello.role)
    if (!entry) {
      o.telemetry.refused(CloseCode.UNAUTHORIZED)
      socket.close(CloseCode.UNAUTHORIZED, closeReason(`unknown role "${hello.role}"`))
      return null
    }
    let ctx: BaseContext
    try {
      ctx = checkCtx(await o.authenticate({ role: hello.role, auth: hello.auth, request }))
      if (ctx.expiresAt !== undefined && ctx.expiresAt <= Date.now()) throw new RtError('UNAUTHORIZED', 'credentials expired')
    } catch (e) {
      if (!(e instanceof RtError)) o.report(e, { where: 'authenticate' })
      o.telemetry.refused(closeCodeFor(e))
      socket.close(closeCodeFor(e), e instanceof RtError ? closeReason(e.message) : 'unauthorized')
      return null
    }
    if (this.phase === 'gone') return null
    if (o.draining) {
      socket.close(CloseCode.GOING_AWAY, 'server shutting down')
      return null
    }
    const conn = o.connect(entry, ctx, socket, this.codec)
    const { limits } = o
    const welcome: WelcomeFrame = { t: 'welcome', v: PROTOCOL_VERSION, conn: conn.id, node: conn.nodeId, hb: limits.heartbeatIntervalMs, mf: limits.maxFrameBytes }
    if (ctx.expiresAt !== undefined) welcome.x = ctx.expiresAt
    conn.send(conn.encoder.encode(welcome))
    o.watch(conn, request)
    // Frames the client sends after the welcome wait until onConnection is done (rooms are set up by then).
    if (o.onConnection) {
      try {
        await o.onConnection(conn, ctx)
      } catch (e) {
        o.report(e, { where: 'onConnection', connId: conn.id })
      }
    }
    return conn.closed ? null : conn
  }

  private opened(c: Connection | null): void {
    this.endHandshake()
    if (!c) return
    if (this.phase === 'gone') {
      // The socket closed while onConnection ran: report its real close.
      c.closed = true
      this.hs.o.detach(c, this.goneReason ?? { code: CloseCode.NORMAL, reason: '' })
      return
    }
    // The address is kept only where it is counted (a per-address cap): a string a connection less.
    const link = (this.link = new Link(this.hs, c, this.hs.perIp ? this.address : ''))
    this.phase = 'open'
    const queued = this.early
    this.early = undefined
    if (queued) for (const f of queued) c.receive(f)
    // From here on the socket's frames go straight to the Link, and this object is released.
    if (!c.closed) this.socket.rebind?.(link)
  }
}

/** An open connection's listener, once the handshake is over: its frames, and its socket's end. */
class Link implements SocketListener {
  constructor(
    private readonly hs: Handshakes,
    private readonly conn: Connection,
    private readonly address: string,
  ) {}

  message(data: Frame): void {
    count(this.hs, data)
    try {
      this.conn.receive(data)
    } catch (e) {
      this.hs.o.report(e, { where: 'frame' })
      this.conn.socket.close(CloseCode.PROTOCOL_ERROR, 'internal error')
    }
  }

  close(code: number, reason: string): void {
    this.hs.release(this.address)
    const conn = this.conn
    if (conn.closed) return
    conn.closed = true
    this.hs.o.detach(conn, { code, reason })
  }
}
