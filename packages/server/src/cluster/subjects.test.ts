import { describe, expect, it } from 'vitest'
import { fromPeers } from '@rt/contract/internal'
import { packMessage, subjects, unpackMessage } from './subjects.js'

// Subjects and messages are wire format: nodes of two versions share a cluster during a rolling
// deploy. These are the exact bytes earlier versions use; a change here breaks mixed clusters.
describe('cluster subjects', () => {
  it('are the subjects every version uses', () => {
    expect(subjects.room('lobby')).toBe('room.lobby')
    expect(subjects.room('room:42')).toBe('room.~room%3A42')
    expect(subjects.node('n-1')).toBe('node.n-1')
    expect(subjects.topic('shared', 'news', '')).toBe('topic.shared.news.~')
    expect(subjects.topic('user', 'ticker', '{"symbol":"AAPL"}')).toBe('topic.user.ticker.~%7B%22symbol%22%3A%22AAPL%22%7D')
    expect(subjects.topicAll('user', 'ticker')).toBe('topic.user.ticker.*')
    expect([subjects.heartbeat, subjects.delta, subjects.join, subjects.leave]).toEqual(['cluster.hb', 'cluster.delta', 'cluster.join', 'cluster.leave'])
    expect(subjects.sync('a')).toBe('cluster.sync.a')
    expect(subjects.state('a')).toBe('cluster.state.a')
  })

  it('carry directory messages as the JSON every version reads, each naming its origin', () => {
    const text = (d: Uint8Array) => new TextDecoder().decode(d)
    expect(text(packMessage('heartbeat', { id: 'a', started: 1, seq: 2, conns: 3 }))).toBe('{"id":"a","started":1,"seq":2,"conns":3}')
    expect(text(packMessage('sync', { from: 'b' }))).toBe('{"from":"b"}')
    expect(unpackMessage<'sync'>(packMessage('sync', { from: 'b' }))).toMatchObject({ from: 'b', origin: 'b' })
    expect(unpackMessage<'join'>(packMessage('join', { id: 'c' }))).toMatchObject({ id: 'c', origin: 'c' })
    expect(unpackMessage(new TextEncoder().encode('7'))).toBeNull()
    const got: string[] = []
    const handle = fromPeers('a', unpackMessage<'join'>, (m) => void got.push(m.id))
    handle(packMessage('join', { id: 'a' }), subjects.join)
    handle(packMessage('join', { id: 'b' }), subjects.join)
    expect(got).toEqual(['b'])
  })
})
