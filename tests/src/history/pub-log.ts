import type { StreamPosition } from '@rt/contract'
import type { HistoryTopic } from './contract.js'
import type { HistoryNode } from './node.js'
import type { StreamRecord } from './history-client.js'

export interface StreamId {
  topic: HistoryTopic
  room: string
}

const keyOf = (s: StreamId) => `${s.topic}|${s.room}`

/** Every publication the tests made, by stream and offset, as `srv.publish` resolved it. */
export class PubLog {
  readonly streams = new Map<string, Map<number, { id: string; epoch: string }>>()
  published = 0
  /** Publishes that rejected: their publication may or may not be stored. */
  failed = 0
  readonly failures: unknown[] = []
  /** Positions handed out to two publications: offsets are not contiguous-and-unique then. */
  readonly conflicts: string[] = []

  async publish(node: HistoryNode, nodeIndex: number, seq: number, s: StreamId): Promise<void> {
    try {
      const publish = node.srv.publish as (t: string, p: unknown, q: unknown) => Promise<StreamPosition>
      const pos = await publish(s.topic, { node: nodeIndex, seq }, { room: s.room })
      let m = this.streams.get(keyOf(s))
      if (!m) this.streams.set(keyOf(s), (m = new Map()))
      const had = m.get(pos.offset)
      // The log expects one epoch per stream: a second one (storage lost) is a conflict too, named as such.
      if (had) this.conflicts.push(`offset ${pos.offset} of ${keyOf(s)} given twice (${had.id}@${had.epoch} and ${nodeIndex}:${seq}@${pos.epoch})`)
      else m.set(pos.offset, { id: `${nodeIndex}:${seq}`, epoch: pos.epoch })
      this.published++
    } catch (e) {
      this.failed++
      if (this.failures.length < 5) this.failures.push(e)
    }
  }

  top(s: StreamId): number {
    const m = this.streams.get(keyOf(s))
    return m ? Math.max(0, ...m.keys()) : 0
  }

  /** Offsets the publishers were given are contiguous 1…top per stream (when no publish failed). */
  gaps(): string[] {
    const out: string[] = []
    for (const [k, m] of this.streams) {
      const top = Math.max(...m.keys())
      if (m.size !== top) out.push(`${k}: ${m.size} offsets handed out, top ${top}`)
    }
    return out
  }

  /**
   * What is wrong with a stream a client followed from before its first publication, through
   * reconnects all within retention: it must hold offsets 1…top exactly once, in order, each the
   * publication the log has at that offset, and every resubscription must say recovered.
   */
  checkComplete(client: string, rec: StreamRecord): string[] {
    const where = `${client} ${rec.topic}/${rec.room}`
    const m = this.streams.get(keyOf(rec)) ?? new Map()
    const top = this.top(rec)
    const out: string[] = []
    const offsets = rec.got.map((g) => g.offset)
    const expected = Array.from({ length: top }, (_, i) => i + 1)
    if (offsets.length !== top || offsets.some((o, i) => o !== i + 1)) {
      const dup = offsets.filter((o, i) => offsets.indexOf(o) !== i)
      const missing = expected.filter((o) => !offsets.includes(o))
      out.push(`${where}: ${offsets.length} delivered for top ${top}; duplicates [${dup.slice(0, 10)}], missing [${missing.slice(0, 10)}]${missing.length > 10 ? '…' : ''}, first disorder at ${offsets.findIndex((o, i) => i > 0 && o <= offsets[i - 1]!)}`)
    }
    for (const g of rec.got) {
      const p = m.get(g.offset)
      // An offset the log lacks belongs to a publish that rejected yet was stored: allowed only then.
      if (!p) {
        if (this.failed === 0) out.push(`${where}: offset ${g.offset} delivered but never published`)
      } else if (p.id !== g.id || p.epoch !== g.epoch) out.push(`${where}: offset ${g.offset} delivered ${g.id}@${g.epoch}, published ${p.id}@${p.epoch}`)
    }
    const [first, ...again] = rec.infos
    if (!first || first.wasRecovering) out.push(`${where}: first onSubscribed ${JSON.stringify(first)}`)
    for (const i of again) if (!i.wasRecovering || !i.recovered) out.push(`${where}: resubscription said ${JSON.stringify(i)}`)
    return out.slice(0, 5)
  }
}

/**
 * What is wrong with a stream whatever the retention: no duplicate, in order, and every jump (a
 * hole or an epoch change) announced by a `recovered: false` ack right before it, after which
 * deliveries continue from that ack's position.
 */
export function checkNoSilentGap(client: string, rec: StreamRecord): string[] {
  const where = `${client} ${rec.topic}/${rec.room}`
  const out: string[] = []
  for (let i = 1; i < rec.got.length; i++) {
    const a = rec.got[i - 1]!
    const b = rec.got[i]!
    if (a.epoch === b.epoch && b.offset === a.offset + 1) continue
    const told = rec.infos.filter((x) => x.at === i && !x.recovered).at(-1)
    if (!told) out.push(`${where}: silent jump ${a.offset}@${a.epoch} → ${b.offset}@${b.epoch} at ${i}`)
    else if (told.epoch !== b.epoch || b.offset !== told.offset + 1) out.push(`${where}: after recovered:false at ${told.offset}@${told.epoch} came ${b.offset}@${b.epoch}`)
  }
  return out
}
