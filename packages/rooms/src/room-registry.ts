import type { Bus, BusSubscription, Frame } from '@rt/contract'
import { decodeEnvelope, encodeEnvelope, fromPeers, subjectToken } from '@rt/contract/internal'

/** A member's rooms are kept in an array up to this many, in a Set beyond (removal stays O(1)). */
const ARRAY_MAX = 16

/** The bus subject of a room: `room.<name as a subject token>`. On the wire: never changes. */
export const roomSubject = (room: string): string => `room.${subjectToken(room)}`

/** Anything that can be put in a room: a connection, as the server sees it. */
export interface RoomMember {
  readonly id: string
  send(frame: Frame): void
}

/** A transport's native pub/sub, when it has one: one call reaches every subscribed socket. */
export interface NativeFanout<M> {
  subscribe(member: M, channel: string): void
  unsubscribe(member: M, channel: string): void
  /** `source`: the frame before encoding, when the caller has it (a codec-aware fan-out encodes from it). */
  publish(channel: string, frame: Frame, source?: unknown): void
}

/** Telemetry around fan-out (the server's), called once per message, never once per member. */
export interface FanoutProbe {
  /** A start time for `sent` and `received`. */
  now(): number
  /** Starts tracing a broadcast made here; the token goes to `meta` and `sent`. */
  begin(): unknown
  /** The envelope meta to send with it (send time, trace context), if any. */
  meta(token: unknown): string | undefined
  /** After the local writes of a broadcast made here; `native`: the frame, when native pub/sub wrote it. */
  sent(token: unknown, recipients: number, t0: number, native: Frame | undefined): void
  /** After the local writes of a peer's broadcast, with the meta it came with. */
  received(meta: string | undefined, recipients: number, t0: number, native: Frame | undefined): void
}

export interface RoomRegistryOptions<M extends RoomMember> {
  bus: Bus
  /** This node's id: broadcasts carry it so a node skips its own echo from the bus. */
  nodeId: string
  /** The bus subject of a room. @default {@link roomSubject} */
  subject?: (room: string) => string
  /**
   * Local fan-out through the transport's native pub/sub instead of a loop of sends, for rooms of
   * two members or more here: a lone member (a user's own room) is written directly and holds no
   * native channel.
   */
  native?: NativeFanout<M>
  /** Called when a member joins or leaves a room on this node (feeds cluster-wide membership). */
  onChange?: (room: string, member: M, joined: boolean) => void
  /**
   * Writes a frame to members that native pub/sub does not reach (every member without it, a
   * lone member with it); `source` is the frame before encoding, or undefined for one from the
   * bus. The server's writes each member in its own codec.
   * @default a send to each member
   */
  deliver?: (members: Iterable<M>, frame: Frame, source: unknown) => void
  /** Counts and traces broadcasts. @default none */
  probe?: FanoutProbe
}

/** A room with a member on this node. One object and no closure: the registry's one bus handler finds it by subject. */
interface Room<M> {
  /** Its bus subject: also its native channel, and its key in the registry. */
  readonly subject: string
  /** The member itself while it is alone (a user's own room, with the DM pattern), a Set beyond. */
  members: M | Set<M>
  /** Bus subscription held while the room has a member on this node (interest-based routing). */
  sub: BusSubscription
}

/**
 * Rooms of one node: local membership, and cross-node fan-out over the bus. A node subscribes
 * to a room's subject only while it has a member there, so broadcasts reach only nodes with
 * members; an empty room holds no memory and no subscription.
 */
export class RoomRegistry<M extends RoomMember> {
  /**
   * Rooms with a member here, by bus subject: the shared bus handler finds a room by the subject
   * it came on, and a call by name makes the subject first (one table, not one per key).
   */
  private readonly bySubject = new Map<string, Room<M>>()
  /**
   * Rooms of each member: a plain name while it is in one room, an array of a few (a room and
   * the user's own: the usual case), a Set once it is in more than `ARRAY_MAX`.
   */
  private readonly memberRooms = new Map<M, string | string[] | Set<string>>()
  readonly subject: (room: string) => string

  /** Every room's bus handler: a peer's broadcast, delivered to the room's members here. */
  private readonly fromBus: (data: Uint8Array, subject: string) => void

  constructor(private readonly options: RoomRegistryOptions<M>) {
    this.subject = options.subject ?? roomSubject
    this.fromBus = fromPeers(options.nodeId, decodeEnvelope, (env, subject) => {
      const r = this.bySubject.get(subject)
      if (!r) return
      const probe = this.options.probe
      if (!probe) return void this.deliver(r, env.frame, undefined)
      const t0 = probe.now()
      const native = this.nativeFrame(r, env.frame)
      probe.received(env.meta, this.deliver(r, env.frame, undefined), t0, native)
    })
  }

  /** Adds a member; false if it was there already. */
  add(room: string, member: M): boolean {
    const native = this.options.native
    const subject = this.subject(room)
    let r = this.bySubject.get(subject)
    if (!r) {
      // Alone: written directly, so no native channel (a user's own room costs the transport nothing).
      r = { subject, members: member, sub: this.options.bus.subscribe(subject, this.fromBus) }
      this.bySubject.set(subject, r)
    } else if (r.members instanceof Set) {
      if (r.members.has(member)) return false
      r.members.add(member)
      native?.subscribe(member, r.subject)
    } else {
      if (r.members === member) return false
      // The second member: from now on the room fans out natively, the first member included.
      native?.subscribe(r.members, r.subject)
      native?.subscribe(member, r.subject)
      r.members = new Set([r.members, member])
    }
    const mine = this.memberRooms.get(member)
    if (mine === undefined) this.memberRooms.set(member, room)
    else if (typeof mine === 'string') this.memberRooms.set(member, [mine, room])
    else if (mine instanceof Set) mine.add(room)
    else if (mine.length < ARRAY_MAX) mine.push(room)
    else this.memberRooms.set(member, new Set([...mine, room]))
    this.options.onChange?.(room, member, true)
    return true
  }

  /** Removes a member; false if it was not there. The last one out releases the room. */
  remove(room: string, member: M): boolean {
    const r = this.bySubject.get(this.subject(room))
    if (!r) return false
    const alone = r.members === member
    if (!alone && !(r.members instanceof Set && r.members.delete(member))) return false
    const mine = this.memberRooms.get(member)
    if (mine === room) this.memberRooms.delete(member)
    else if (mine instanceof Set) {
      if (mine.delete(room) && mine.size === 0) this.memberRooms.delete(member)
    } else if (Array.isArray(mine)) {
      // Order does not matter: the last one takes the freed place.
      const i = mine.indexOf(room)
      const last = mine.pop()!
      if (i >= 0 && i < mine.length) mine[i] = last
      if (mine.length === 0) this.memberRooms.delete(member)
    }
    // Only a room of several members (a Set, even if down to one) has a native channel.
    if (!alone) this.options.native?.unsubscribe(member, r.subject)
    if (alone || (r.members as Set<M>).size === 0) {
      r.sub.unsubscribe()
      this.bySubject.delete(r.subject)
    }
    this.options.onChange?.(room, member, false)
    return true
  }

  /** Takes a member out of every room (its connection closed). */
  removeAll(member: M): void {
    for (const room of this.roomsOf(member)) this.remove(room, member)
  }

  /** Members on this node. */
  size(room: string): number {
    const r = this.bySubject.get(this.subject(room))
    return r === undefined ? 0 : r.members instanceof Set ? r.members.size : 1
  }

  has(room: string, member: M): boolean {
    const r = this.bySubject.get(this.subject(room))
    return r !== undefined && (r.members instanceof Set ? r.members.has(member) : r.members === member)
  }

  /** How many rooms have a member on this node. */
  get count(): number {
    return this.bySubject.size
  }

  roomsOf(member: M): ReadonlySet<string> {
    const mine = this.memberRooms.get(member)
    return new Set(mine === undefined ? [] : typeof mine === 'string' ? [mine] : mine)
  }

  /**
   * Delivers an encoded frame to every member of the room on every node: here directly, and
   * once on the bus for the other nodes (each writes it to its own members). `source` is the
   * frame before encoding, for members on another codec.
   */
  broadcast(room: string, frame: Frame, source?: unknown): void {
    const probe = this.options.probe
    const t0 = probe ? probe.now() : 0
    const token = probe?.begin()
    const subject = this.subject(room)
    const r = this.bySubject.get(subject)
    const native = probe && this.nativeFrame(r, frame)
    const n = r ? this.deliver(r, frame, source) : 0
    this.options.bus.publish(subject, encodeEnvelope(this.options.nodeId, '', frame, probe?.meta(token)))
    probe?.sent(token, n, t0, native)
  }

  /**
   * Writes to the room's members here; returns how many. A lone member is sent to directly; a
   * room of several goes through native pub/sub when the transport has it.
   */
  private deliver(r: Room<M>, frame: Frame, source: unknown): number {
    const o = this.options
    const members = r.members
    if (!(members instanceof Set)) {
      if (o.deliver) o.deliver([members], frame, source)
      else members.send(frame)
      return 1
    }
    if (o.native) o.native.publish(r.subject, frame, source)
    else if (o.deliver) o.deliver(members, frame, source)
    else for (const m of members) m.send(frame)
    return members.size
  }

  /** The frame for the probe when native pub/sub writes the room (the probe counts those writes). */
  private nativeFrame(r: Room<M> | undefined, frame: Frame): Frame | undefined {
    return this.options.native && r && r.members instanceof Set ? frame : undefined
  }

  /** Drops every room and subscription (the node is closing). */
  close(): void {
    for (const r of this.bySubject.values()) r.sub.unsubscribe()
    this.bySubject.clear()
    this.memberRooms.clear()
  }
}
