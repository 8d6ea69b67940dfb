import { constants, deflateRawSync } from 'node:zlib'
import type { Frame } from '@rt/contract'
import { createWriteScheduler, type QueuedSocket, type WriteScheduler } from '@rt/server'

/** An unmasked server→client WebSocket frame header (FIN set; RSV1 marks a compressed message). */
function header(opcode: number, length: number, rsv1: boolean): Buffer {
  const b0 = 0x80 | (rsv1 ? 0x40 : 0) | opcode
  if (length < 126) return Buffer.from([b0, length])
  const h = Buffer.allocUnsafe(length < 65_536 ? 4 : 10)
  h[0] = b0
  if (length < 65_536) {
    h[1] = 126
    h.writeUInt16BE(length, 2)
  } else {
    h[1] = 127
    h.writeBigUInt64BE(BigInt(length), 2)
  }
  return h
}

/** The smallest window (9..max) that spans `length` bytes: a one-shot deflate gains nothing from more, and sets up faster. */
function windowFor(length: number, max: number): number {
  let bits = 9
  while (bits < max && 1 << bits < length) bits++
  return bits
}

/**
 * RFC 7692 §7.2.1: the message deflated on its own (no context carried over, as
 * `server_no_context_takeover` was negotiated), the trailing 00 00 ff ff removed.
 */
function deflate(data: Buffer, bits: number): Buffer {
  const out = deflateRawSync(data, { windowBits: bits, finishFlush: constants.Z_SYNC_FLUSH })
  return out.subarray(0, out.length - 4)
}

/** Whether `framed` is these very frames, for a socket that negotiated `bits`. */
const same = (framed: Framed, frames: Frame[], bits: number): boolean =>
  framed.bits === bits && framed.frames.length === frames.length && frames.every((f, i) => f === framed.frames[i])

const asBuffer = (f: Frame): Buffer => (typeof f === 'string' ? Buffer.from(f) : Buffer.from(f.buffer, f.byteOffset, f.byteLength))

interface Framed {
  frames: Frame[]
  /** The socket's negotiated window bits; 0 for a socket without permessage-deflate. */
  bits: number
  bytes: Buffer
}

/**
 * The ws transport's write scheduler, plus the turn's framed bytes. After a broadcast every
 * member's queue holds the same frames: they are framed once for the members without
 * compression and once for those with it. A compressed message depends on no socket's state
 * (no context takeover), so one deflate serves every member; each frame is deflated at most
 * once a turn, whatever the batches it is in. All of it is dropped after each turn's writes.
 */
export class FrameCache implements WriteScheduler {
  private readonly writes = createWriteScheduler(() => this.drop())
  private plain: Framed | undefined
  private packed: Framed | undefined
  // The batch framed before the last one: a broadcast to sockets on two codecs alternates between
  // two batches (JSON text, MessagePack binary), and each is framed once, not once per socket.
  private plainBefore: Framed | undefined
  private packedBefore: Framed | undefined
  private readonly deflated = new Map<Frame, { bits: number; bytes: Buffer }>()

  /** @param threshold frames of fewer bytes go uncompressed; `Infinity` with compression off. */
  constructor(private readonly threshold: number) {}

  mark(s: QueuedSocket<WriteScheduler>): void {
    this.writes.mark(s)
  }

  flush(): void {
    this.writes.flush()
  }

  schedule(): void {
    this.writes.schedule()
  }

  /** `frames` as one buffer of WebSocket frames for a socket that negotiated `bits` (0: none). */
  framed(frames: Frame[], bits: number): Buffer {
    const last = bits === 0 ? this.plain : this.packed
    if (last && same(last, frames, bits)) return last.bytes
    const before = bits === 0 ? this.plainBefore : this.packedBefore
    if (before && same(before, frames, bits)) return before.bytes
    const parts: Buffer[] = []
    for (const f of frames) {
      const opcode = typeof f === 'string' ? 1 : 2
      const data = asBuffer(f)
      if (bits === 0 || data.length < this.threshold) {
        parts.push(header(opcode, data.length, false), data)
        continue
      }
      const z = this.compressed(f, data, bits)
      parts.push(header(opcode, z.length, true), z)
    }
    const framed = { frames, bits, bytes: Buffer.concat(parts) }
    if (bits === 0) {
      this.plainBefore = last
      this.plain = framed
    } else {
      this.packedBefore = last
      this.packed = framed
    }
    return framed.bytes
  }

  private compressed(f: Frame, data: Buffer, bits: number): Buffer {
    const hit = this.deflated.get(f)
    // Deflated with a window no larger than this socket allows: valid for it as it is.
    if (hit && hit.bits <= bits) return hit.bytes
    const w = windowFor(data.length, bits)
    const bytes = deflate(data, w)
    if (!hit) this.deflated.set(f, { bits: w, bytes })
    return bytes
  }

  private drop(): void {
    this.plain = this.packed = this.plainBefore = this.packedBefore = undefined
    if (this.deflated.size > 0) this.deflated.clear()
  }
}
