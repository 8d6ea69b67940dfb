import { SUBPROTOCOL_PREFIX, jsonEncoder, parseSubprotocols, subprotocolOf, type Encoder, type Frame, type ServerFrame } from '@rt/contract'
import type { TransportRequest } from './transport.js'

/** What a client asked for at connect: a codec index (-1: one not served) and the subprotocol to answer. */
export interface CodecChoice {
  codec: number
  /** The subprotocol to answer; undefined leaves the answer to the transport (none was asked for). */
  protocol: string | undefined
}

const DEFAULT: CodecChoice = { codec: 0, protocol: undefined }

/** Anything a frame can be delivered to in its own codec: a connection. */
export interface CodecRecipient {
  readonly codec: number
  send(frame: Frame): void
}

/**
 * The codecs a node serves. The first (JSON whenever it is served) is the canonical one: it is
 * what clients asking for no codec get, and what the bus carries between nodes. Fan-out writes the
 * canonical frame to its connections and encodes for another codec at most once per message, and
 * only while a connection of this node uses one (`others`).
 */
export class Codecs {
  readonly list: readonly Encoder[]
  /** Connections of this node on a codec other than the first. 0 keeps every fan-out on the single-codec path. */
  others = 0
  /** Connections per codec (the first's not counted). */
  private readonly live: number[]
  private readonly byProtocol = new Map<string, number>()

  constructor(encoders: readonly Encoder[]) {
    if (encoders.length === 0) throw new TypeError('createServer: encoders must list one encoder at least')
    const json = encoders.findIndex((e) => e.name === jsonEncoder.name)
    this.list = json > 0 ? [encoders[json]!, ...encoders.filter((_, i) => i !== json)] : [...encoders]
    this.list.forEach((e, i) => {
      const p = subprotocolOf(e)
      if (this.byProtocol.has(p)) throw new TypeError(`createServer: two encoders are named "${e.name}"`)
      this.byProtocol.set(p, i)
    })
    this.live = this.list.map(() => 0)
  }

  get canonical(): Encoder {
    return this.list[0]!
  }

  /** The codec the upgrade asks for: the first `rt.<name>` subprotocol the node serves; none asked for is the first codec. */
  select(request: TransportRequest): CodecChoice {
    const offered = request.protocols ?? parseSubprotocols(request.headers['sec-websocket-protocol'])
    if (offered.length === 0) return DEFAULT
    let asked: string | undefined
    for (const p of offered) {
      if (!p.startsWith(SUBPROTOCOL_PREFIX)) continue
      const i = this.byProtocol.get(p)
      if (i !== undefined) return { codec: i, protocol: p }
      asked ??= p
    }
    // Answered all the same, so that the handshake completes and the client can be told why (4008).
    return asked === undefined ? DEFAULT : { codec: -1, protocol: asked }
  }

  /** A connection on `codec` opened (or, with -1, closed). */
  count(codec: number, delta: 1 | -1): void {
    if (codec === 0) return
    this.live[codec]! += delta
    this.others += delta
  }

  /** Whether a connection of this node uses `codec`. */
  inUse(codec: number): boolean {
    return codec === 0 || this.live[codec]! > 0
  }

  /** Writes one frame to each recipient in its codec: the canonical `frame`, or another made once. */
  deliver(recipients: Iterable<CodecRecipient>, frame: Frame, source: ServerFrame | undefined): void {
    if (this.others === 0) {
      for (const r of recipients) r.send(frame)
      return
    }
    let made: Encodings | undefined
    for (const r of recipients) r.send(r.codec === 0 ? frame : (made ??= new Encodings(this, frame, source)).get(r.codec))
  }

  /** A frame that never changes (ping, pong, goaway), encoded for each codec on first use. */
  constant(source: ServerFrame): Encodings {
    return new Encodings(this, this.canonical.encode(source), source)
  }
}

/**
 * One message in every codec its recipients use: the canonical frame given, any other encoded
 * once, on first use, from the message itself when the caller has it, else by decoding the
 * canonical frame once (a frame that came over the bus).
 */
export class Encodings {
  private made: (Frame | undefined)[] | undefined

  constructor(
    private readonly codecs: Codecs,
    readonly frame: Frame,
    private source: unknown,
  ) {}

  get(codec: number): Frame {
    if (codec === 0) return this.frame
    const made = (this.made ??= [])
    let f = made[codec]
    if (f === undefined) {
      if (this.source === undefined) this.source = this.codecs.canonical.decode(this.frame)
      f = made[codec] = this.codecs.list[codec]!.encode(this.source as ServerFrame)
    }
    return f
  }
}
