import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Frame } from '@rt/contract'
import { CLOSE_GRACE_MS, QueuedSocket, closeGrace, createWriteScheduler, type WriteScheduler } from './write-queue.js'

/** A transport adapter that records what it is asked to do. */
class FakeSocket extends QueuedSocket {
  log: string[] = []
  batches: Frame[][] = []
  held = 0

  constructor(scheduler: WriteScheduler, readonly name = 's') {
    super(scheduler)
  }

  protected write(frames: Frame[]): void {
    this.batches.push(frames)
    this.log.push(`write ${frames.map((f) => (typeof f === 'string' ? f : `<${f.byteLength}>`)).join(',')}`)
  }

  protected unsent(): number {
    if (this.gone) throw new Error('unsent() on a gone socket')
    return this.held
  }

  protected end(code: number, reason: string): void {
    this.log.push(`end ${code} ${reason}`)
  }

  /** What the transport's close event does. */
  onClose(): void {
    this.markGone()
  }
}

class CuttableSocket extends FakeSocket {
  protected override cut(): void {
    this.log.push('cut')
  }
}

const turn = () => new Promise((r) => setImmediate(r))

afterEach(() => {
  vi.useRealTimers()
})

describe('QueuedSocket + createWriteScheduler', () => {
  it('writes each socket once per turn, its frames in send order, and nothing before the turn ends', async () => {
    const sch = createWriteScheduler()
    const a = new FakeSocket(sch)
    const b = new FakeSocket(sch)
    a.send('1')
    b.send('x')
    a.send(new Uint8Array(3))
    a.send('2')
    expect(a.batches).toEqual([])
    await turn()
    expect(a.log).toEqual(['write 1,<3>,2'])
    expect(b.log).toEqual(['write x'])
    a.send('3')
    await turn()
    await turn()
    expect(a.log).toEqual(['write 1,<3>,2', 'write 3'])
    expect(b.log).toEqual(['write x'])
  })

  it('schedules one immediate per turn, however many sockets and frames, and runs afterTurn after the writes', async () => {
    const spy = vi.spyOn(globalThis, 'setImmediate')
    const order: string[] = []
    const sch = createWriteScheduler(() => order.push('afterTurn'))
    const sockets = Array.from({ length: 5 }, () => new FakeSocket(sch))
    for (const s of sockets) for (let i = 0; i < 4; i++) s.send(`f${i}`)
    expect(spy).toHaveBeenCalledTimes(1)
    spy.mockRestore()
    const writes = () => sockets.reduce((n, s) => n + s.batches.length, 0)
    await turn()
    expect(writes()).toBe(5)
    expect(order).toEqual(['afterTurn'])
    await turn()
    expect(order).toEqual(['afterTurn'])
  })

  it('counts queued bytes (string length, byteLength) plus what the socket holds, and resets them on flush', async () => {
    const s = new FakeSocket(createWriteScheduler())
    s.held = 100
    expect(s.bufferedAmount).toBe(100)
    s.send('abcd')
    s.send(new Uint8Array(10))
    expect(s.bufferedAmount).toBe(114)
    await turn()
    expect(s.bufferedAmount).toBe(100)
    s.held = 0
    expect(s.bufferedAmount).toBe(0)
  })

  it('holds no queue while idle: no array per connection', async () => {
    const s = new FakeSocket(createWriteScheduler())
    const ownArrays = () => Object.entries(s).filter(([k, v]) => Array.isArray(v) && !['log', 'batches'].includes(k))
    expect(ownArrays()).toEqual([])
    s.send('a')
    expect(ownArrays()).toHaveLength(1)
    await turn()
    expect(ownArrays()).toEqual([])
  })

  it('flush() writes every queued frame now (before a native publish), and the turn then has nothing left', async () => {
    const sch = createWriteScheduler()
    const a = new FakeSocket(sch)
    const b = new FakeSocket(sch)
    a.send('1')
    b.send('2')
    sch.flush()
    expect([a.log, b.log]).toEqual([['write 1'], ['write 2']])
    await turn()
    expect([a.log, b.log]).toEqual([['write 1'], ['write 2']])
  })

  it('schedule() runs afterTurn once even with nothing queued', async () => {
    let runs = 0
    const sch = createWriteScheduler(() => runs++)
    sch.schedule()
    sch.schedule()
    await turn()
    expect(runs).toBe(1)
  })

  it('close() writes what is queued, then closes; later sends and a second close are dropped', async () => {
    const s = new FakeSocket(createWriteScheduler())
    s.send('a')
    s.send('b')
    s.close(4000, 'bye')
    expect(s.log).toEqual(['write a,b', 'end 4000 bye'])
    expect(s.closed).toBe(true)
    s.send('c')
    s.close(1000)
    expect(s.bufferedAmount).toBe(0)
    await turn()
    expect(s.log).toEqual(['write a,b', 'end 4000 bye'])
  })

  it('closeNow() drops what is queued and closes', async () => {
    const s = new FakeSocket(createWriteScheduler())
    s.send('a')
    s.closeNow(4005, 'slow consumer')
    expect(s.bufferedAmount).toBe(0)
    await turn()
    expect(s.log).toEqual(['end 4005 slow consumer'])
  })

  it('a gone socket drops what was queued and what comes after, and never asks the adapter', async () => {
    const sch = createWriteScheduler()
    const s = new FakeSocket(sch)
    const other = new FakeSocket(sch)
    s.send('a')
    other.send('b')
    s.onClose()
    expect([s.closed, s.gone, s.bufferedAmount]).toEqual([true, true, 0])
    s.send('c')
    s.close(1000)
    await turn()
    expect(s.log).toEqual([])
    expect(other.log).toEqual(['write b'])
  })

  it('cuts a socket whose close handshake does not finish within the grace', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const s = new CuttableSocket(createWriteScheduler())
    s.close(1000, 'done')
    vi.advanceTimersByTime(CLOSE_GRACE_MS - 1)
    expect(s.log).toEqual(['end 1000 done'])
    vi.advanceTimersByTime(1)
    expect(s.log).toEqual(['end 1000 done', 'cut'])
  })

  it('clears the grace once the socket is gone, so a closed socket is not held for it', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const s = new CuttableSocket(createWriteScheduler())
    s.close(1000)
    expect(vi.getTimerCount()).toBe(1)
    s.onClose()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(CLOSE_GRACE_MS * 2)
    expect(s.log).toEqual(['end 1000 '])
  })

  it('sets no grace timer for an adapter without cut(), or for a socket gone during end()', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    new FakeSocket(createWriteScheduler()).close(1000)
    expect(vi.getTimerCount()).toBe(0)
    const s = new (class extends CuttableSocket {
      protected override end(code: number, reason: string): void {
        super.end(code, reason)
        this.onClose()
      }
    })(createWriteScheduler())
    s.close(1000)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('closeGrace', () => {
  it('resolves once nothing is open, with the grace left', async () => {
    let open = 2
    setTimeout(() => (open = 0), 30)
    const left = await closeGrace(() => open)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(CLOSE_GRACE_MS)
  })

  it('gives up at the grace, with nothing left', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'Date'] })
    const done = closeGrace(() => 1)
    await vi.advanceTimersByTimeAsync(CLOSE_GRACE_MS + 20)
    expect(await done).toBe(0)
  })
})
