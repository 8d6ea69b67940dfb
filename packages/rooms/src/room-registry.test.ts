import fc from 'fast-check'
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
const byId = (a: M, b: M) => a.id.localeCompare(b.id)

/** A native pub/sub that only records what it is asked to do. */
function recordingNative() {
  const calls: string[] = []
  const native: NativeFanout<M> = {
    subscribe: (m, ch) => void calls.push(`+${m.id} ${ch}`),
    unsubscribe: (m, ch) => void calls.push(`-${m.id} ${ch}`),
    publish: (ch, f) => void calls.push(`pub ${ch} ${String(f)}`),
  }
  return { calls, native }
}

/** Node `a` with a recording native pub/sub and node `b` without, on one bus. */
function nativePair() {
  const b = sharedBus()
  const { calls, native } = recordingNative()
  return { calls, here: new RoomRegistry<M>({ bus: b.bus, nodeId: 'a', native }), there: new RoomRegistry<M>({ bus: b.bus, nodeId: 'b' }) }
}

describe('RoomRegistry', () => {
  it('a room of one member held as that member answers like any other, through joins, leaves and peer broadcasts (property)', () => {
    const ROOMS = ['solo', 'pair', 'many']
    const op = fc.record({ join: fc.boolean(), room: fc.constantFrom(...ROOMS), who: fc.nat(3) })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const b = sharedBus()
        const here = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a' })
        const peer = new RoomRegistry<M>({ bus: b.bus, nodeId: 'b' })
        const members = [0, 1, 2, 3].map((i) => member(`m${i}`))
        const model = new Map(ROOMS.map((r) => [r, new Set<M>()]))
        for (const o of ops) {
          const m = members[o.who]!
          const expected = o.join ? !model.get(o.room)!.has(m) : model.get(o.room)!.has(m)
          if (o.join) model.get(o.room)!.add(m)
          else model.get(o.room)!.delete(m)
          expect(o.join ? here.add(o.room, m) : here.remove(o.room, m)).toBe(expected)
        }
        for (const r of ROOMS) {
          const want = model.get(r)!
          expect(here.size(r)).toBe(want.size)
          for (const m of members) expect(here.has(r, m)).toBe(want.has(m))
          for (const m of members) m.got.length = 0
          // A broadcast from the other node reaches exactly this node's members, once each.
          peer.broadcast(r, `to ${r}`)
          for (const m of members) expect(m.got).toEqual(want.has(m) ? [`to ${r}`] : [])
        }
        expect(here.count).toBe(ROOMS.filter((r) => model.get(r)!.size > 0).length)
        expect(b.subjects()).toEqual(ROOMS.filter((r) => model.get(r)!.size > 0).map(roomSubject).sort())
        for (const m of members) expect([...here.roomsOf(m)].sort()).toEqual(ROOMS.filter((r) => model.get(r)!.has(m)).sort())
      }),
      { numRuns: 200 },
    )
  })

  it('keeps every member in many rooms (past the array it starts with) and fans out once per member, lone or native (property)', () => {
    const ROOMS = Array.from({ length: 24 }, (_, i) => `r${i}`)
    const op = fc.record({ join: fc.boolean(), room: fc.constantFrom(...ROOMS), who: fc.nat(2) })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const b = sharedBus()
        // A native pub/sub that delivers to what it was told: so a member it misses, or gets twice, shows.
        const channels = new Map<string, Set<M>>()
        const native: NativeFanout<M> = {
          subscribe: (m, ch) => void (channels.get(ch) ?? channels.set(ch, new Set()).get(ch)!).add(m),
          unsubscribe: (m, ch) => void channels.get(ch)?.delete(m),
          publish: (ch, f) => channels.get(ch)?.forEach((m) => m.send(f)),
        }
        const here = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a', native })
        const members = [0, 1, 2].map((i) => member(`m${i}`))
        const model = new Map(ROOMS.map((r) => [r, new Set<M>()]))
        // A room fans out natively once it has had two members here since it was made.
        const many = new Set<string>()
        for (const o of ops) {
          const m = members[o.who]!
          const room = model.get(o.room)!
          expect(o.join ? here.add(o.room, m) : here.remove(o.room, m)).toBe(o.join ? !room.has(m) : room.has(m))
          if (o.join) room.add(m)
          else room.delete(m)
          if (room.size === 0) many.delete(o.room)
          else if (room.size > 1) many.add(o.room)
        }
        for (const r of ROOMS) {
          const want = model.get(r)!
          expect([...(channels.get(roomSubject(r)) ?? [])].sort(byId)).toEqual(many.has(r) ? [...want].sort(byId) : [])
          for (const m of members) m.got.length = 0
          here.broadcast(r, `to ${r}`)
          for (const m of members) expect(m.got).toEqual(want.has(m) ? [`to ${r}`] : [])
        }
        for (const m of members) expect([...here.roomsOf(m)].sort()).toEqual(ROOMS.filter((r) => model.get(r)!.has(m)).sort())
        for (const m of members) here.removeAll(m)
        expect([here.count, [...channels.values()].reduce((n, c) => n + c.size, 0)]).toEqual([0, 0])
      }),
      { numRuns: 150 },
    )
  })

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
    const { calls, here, there } = nativePair()
    const [x, y] = [member('x'), member('y')]
    here.add('r', x)
    here.add('r', y)
    there.add('r', member('w'))
    here.broadcast('r', 'local')
    there.broadcast('r', 'remote')
    here.removeAll(x)
    here.broadcast('r', 'again') // y is alone now, but the room is still a set: native
    expect(calls).toEqual(['+x room.r', '+y room.r', 'pub room.r local', 'pub room.r remote', '-x room.r', 'pub room.r again'])
    expect(x.got).toEqual([])
    expect(y.got).toEqual([])
  })

  it('writes a lone member directly: no native channel until a second member joins, then both are on it', () => {
    const { calls, here, there } = nativePair()
    const [u, v] = [member('u'), member('v')]
    here.add('u1', u)
    here.broadcast('u1', 'dm')
    there.broadcast('u1', 'dm from b')
    expect(calls).toEqual([])
    expect(u.got).toEqual(['dm', 'dm from b'])
    here.add('u1', v)
    here.broadcast('u1', 'both')
    expect(calls).toEqual(['+u room.u1', '+v room.u1', 'pub room.u1 both'])
    expect(u.got).toEqual(['dm', 'dm from b'])
    here.remove('u1', u)
    here.remove('u1', v)
    expect(calls.slice(3)).toEqual(['-u room.u1', '-v room.u1'])
    expect(here.count).toBe(0)
    // A lone member again: no channel, and leaving unsubscribes nothing.
    here.add('u1', u)
    here.broadcast('u1', 'back')
    here.remove('u1', u)
    expect(calls.length).toBe(5)
    expect(u.got.at(-1)).toBe('back')
  })

  it('writes a lone member through `deliver` when one is given (a node serving several codecs)', () => {
    const b = sharedBus()
    const delivered: string[] = []
    const native: NativeFanout<M> = { subscribe() {}, unsubscribe() {}, publish: (ch, f) => void delivered.push(`pub ${ch} ${String(f)}`) }
    const here = new RoomRegistry<M>({ bus: b.bus, nodeId: 'a', native, deliver: (ms, f, src) => void delivered.push(`deliver ${[...ms].map((m) => m.id).join(',')} ${String(f)} ${String(src)}`) })
    here.add('u1', member('u'))
    here.broadcast('u1', 'f', 'source')
    here.add('u1', member('v'))
    here.broadcast('u1', 'g', 'source')
    expect(delivered).toEqual(['deliver u f source', 'pub room.u1 g'])
  })
})
