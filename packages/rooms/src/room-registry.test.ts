import { describe, expect, it } from 'vitest'
import type { Bus, BusSubscription, Frame } from '@rt/contract'
import { decodeEnvelope, encodeEnvelope } from '@rt/contract/internal'
import { RoomRegistry, roomSubject, type NativeFanout } from './room-registry.js'

/** A bus shared by every registry made on it: synchronous, echoes included, subscriptions counted. */
function sharedBus() {
  const subs = new Map<{ subject: string; handler: (d: Uint8Array, s: string) => void }, true>()
  const published: { subject: string; data: Uint8Array }[] = []
  const bus: Bus = {
    publish(subject, data) {
      published.push({ subject, data })
      for (const e of [...subs.keys()]) if (e.subject === subject) e.handler(data, subject)
    },
    subscribe(subject, handler): BusSubscription {
      const e = { subject, handler }
      subs.set(e, true)
      return { unsubscribe: () => void subs.delete(e) }
    },
    flush: async () => {},
    close: async () => {},
  }
  return { bus, published, subjects: () => [...subs.keys()].map((e) => e.subject).sort() }
}

function member(id: string) {
  const got: Frame[] = []
  return { id, got, send: (f: Frame) => void got.push(f) }
}
type M = ReturnType<typeof member>

describe('RoomRegistry', () => {
  it('holds a room subscription exactly while the room has a member on this node', () => {
    const b = sharedBus()
    const changes: string[] = []
    const rooms = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a', onChange: (r, m, joined) => void changes.push(`${joined ? '+' : '-'}${m.id}@${r}`) })
    const [x, y] = [member('x'), member('y')]
    expect(rooms.add('lobby', x)).toBe(true)
    expect(rooms.add('lobby', x)).toBe(false)
    rooms.add('lobby', y)
    rooms.add('a room', x)
    expect(b.subjects()).toEqual(['room.lobby', roomSubject('a room')])
    expect(roomSubject('a room')).toBe('room.~a%20room')
    expect(rooms.count).toBe(2)
    expect(rooms.size('lobby')).toBe(2)
    expect(rooms.remove('lobby', x)).toBe(true)
    expect(rooms.remove('lobby', x)).toBe(false)
    expect(b.subjects()).toEqual(['room.lobby', roomSubject('a room')])
    rooms.remove('lobby', y)
    expect(b.subjects()).toEqual([roomSubject('a room')])
    expect(rooms.has('lobby', y)).toBe(false)
    expect(changes).toEqual(['+x@lobby', '+y@lobby', '+x@a room', '-x@lobby', '-y@lobby'])
  })

  it('takes a member out of every room with removeAll, releasing rooms left empty', () => {
    const b = sharedBus()
    const rooms = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a' })
    const [x, y] = [member('x'), member('y')]
    for (const r of ['r1', 'r2', 'r3']) rooms.add(r, x)
    rooms.add('r2', y)
    expect([...rooms.roomsOf(x)].sort()).toEqual(['r1', 'r2', 'r3'])
    rooms.removeAll(x)
    expect(rooms.roomsOf(x).size).toBe(0)
    expect(b.subjects()).toEqual(['room.r2'])
    expect(rooms.count).toBe(1)
    rooms.removeAll(x) // nothing left: no-op
    rooms.close()
    expect(b.subjects()).toEqual([])
  })

  it('delivers a broadcast once to every member on every node: locally at once, its own bus echo dropped', () => {
    const b = sharedBus()
    const here = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a' })
    const there = new RoomRegistry<M>({ bus: b.bus, nodeId: 'b' })
    const nowhere = new RoomRegistry<M>({ bus: b.bus, nodeId: 'c' })
    const [x, y, z] = [member('x'), member('y'), member('z')]
    here.add('r', x)
    there.add('r', y)
    nowhere.add('other', z)
    here.broadcast('r', 'hello')
    there.broadcast('r', new Uint8Array([1, 2]))
    expect(x.got).toEqual(['hello', new Uint8Array([1, 2])])
    expect(y.got).toEqual(['hello', new Uint8Array([1, 2])])
    expect(z.got).toEqual([])
    // One publish per broadcast, an envelope naming its origin.
    expect(b.published.map((p) => [p.subject, decodeEnvelope(p.data)?.origin])).toEqual([
      ['room.r', 'a'],
      ['room.r', 'b'],
    ])
  })

  it('drops malformed bus messages', () => {
    const b = sharedBus()
    const rooms = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a' })
    const x = member('x')
    rooms.add('r', x)
    b.bus.publish('room.r', new TextEncoder().encode('garbage'))
    b.bus.publish('room.r', encodeEnvelope('b', '', 'ok'))
    expect(x.got).toEqual(['ok'])
  })

  it('fans out through native pub/sub when the transport has it: one call per delivery, channels kept in step', () => {
    const b = sharedBus()
    const calls: string[] = []
    const native: NativeFanout<M> = {
      subscribe: (m, ch) => void calls.push(`+${m.id} ${ch}`),
      unsubscribe: (m, ch) => void calls.push(`-${m.id} ${ch}`),
      publish: (ch, f) => void calls.push(`pub ${ch} ${String(f)}`),
    }
    const here = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a', native })
    const there = new RoomRegistry<M>({ bus: b.bus, nodeId: 'b' })
    const [x, y] = [member('x'), member('y')]
    here.add('r', x)
    here.add('r', y)
    there.add('r', member('w'))
    here.broadcast('r', 'local')
    there.broadcast('r', 'remote')
    here.removeAll(x)
    expect(calls).toEqual(['+x room.r', '+y room.r', 'pub room.r local', 'pub room.r remote', '-x room.r'])
    expect(x.got).toEqual([])
  })
})
