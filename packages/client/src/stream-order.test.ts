import { describe, expect, it } from 'vitest'
import { StreamOrder } from './stream-order.js'

function order(since?: { offset: number; epoch: string }) {
  const delivered: string[] = []
  let repairs = 0
  const o: StreamOrder = new StreamOrder(
    since,
    (p, m) => delivered.push(`${p}@${m.offset}${m.epoch}`),
    () => {
      repairs++
      o.sent()
    },
  )
  return { o, delivered, repairs: () => repairs }
}

describe('StreamOrder', () => {
  it('asks for one repair per hole while it is on its way, and again after the link dropped', () => {
    const { o, delivered, repairs } = order({ offset: 2, epoch: 'E' })
    o.sent()
    o.acked({ k: '', r: true, o: 2, e: 'E' })
    o.publication('d', 4, 'E')
    o.publication('e', 5, 'E')
    expect(repairs()).toBe(1)
    o.dropped()
    o.publication('f', 6, 'E')
    expect(repairs()).toBe(2)
    expect(delivered).toEqual([])
    expect(o.from).toEqual({ o: 2, e: 'E' })
  })

  it('after recovered: false drops what it held up to the top and delivers what continues from it', () => {
    const { o, delivered } = order({ offset: 2, epoch: 'E' })
    o.sent()
    o.publication('d', 4, 'E')
    o.publication('g', 7, 'E')
    o.publication('h', 8, 'E')
    expect(o.acked({ k: '', r: false, o: 6, e: 'E' })).toEqual({ recovered: false, wasRecovering: true, offset: 6, epoch: 'E' })
    expect(delivered).toEqual([]) // nothing before onSubscribed has run
    o.drain()
    expect(delivered).toEqual(['g@7E', 'h@8E'])
    expect(o.position).toEqual({ offset: 8, epoch: 'E' })
  })

  it('takes the top when the position was in the future or in another epoch', () => {
    const a = order({ offset: 50, epoch: 'E' })
    a.o.sent()
    a.o.acked({ k: '', r: false, o: 3, e: 'E' })
    a.o.publication('d', 4, 'E')
    expect(a.delivered).toEqual(['d@4E'])
    const b = order({ offset: 2, epoch: 'E' })
    b.o.sent()
    b.o.publication('x', 4, 'E') // held in the old epoch
    b.o.acked({ k: '', r: false, o: 3, e: 'F' })
    b.o.drain()
    b.o.publication('d', 4, 'F')
    expect(b.delivered).toEqual(['d@4F'])
  })

  it('without a position yet, the first answer sets it and says nothing was recovered', () => {
    const { o } = order()
    expect(o.from).toBeUndefined()
    o.sent()
    expect(o.acked({ k: '', r: false, o: 0, e: 'E' })).toEqual({ recovered: false, wasRecovering: false, offset: 0, epoch: 'E' })
    expect(o.position).toEqual({ offset: 0, epoch: 'E' })
  })
})
