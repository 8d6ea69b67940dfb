// The client's side of topic history (spec: history-and-recovery): positions, resubscribing from
// the last one, dropping duplicates, repairing holes, epoch changes. Against a scripted server (a
// real `ws` server speaking the wire protocol by hand), so every interleaving is the one written.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { defineContract } from '@rt/contract'
import { createClient, type StreamPosition, type SubscribedInfo } from '@rt/client'
import { sleep, until } from './harness.js'

const contract = defineContract({
  roles: {
    user: {
      serverToClient: {
        feed: { payload: z.object({ text: z.string() }), subscribe: true, params: z.object({ room: z.string() }), history: { size: 100 } },
        news: { payload: z.object({ headline: z.string() }), subscribe: true, history: { size: 10 } },
        plain: { payload: z.object({ n: z.number() }), subscribe: true },
      },
    },
  },
})

/** One connection to the scripted server: the frames the client sent after its hello. */
interface Peer {
  frames: any[]
  send(frame: unknown): void
  /** Takes the first frame matching `pred` (waiting for it). */
  next(pred?: (f: any) => boolean): Promise<any>
  /** Drops the link without a close handshake, as a dead network does. */
  kill(): void
}

/** A WebSocket server on 127.0.0.1 that welcomes every client and leaves the rest to the test. */
async function scriptedServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const peers: Peer[] = []
  wss.on('connection', (ws) => {
    const peer: Peer = {
      frames: [],
      send: (f) => ws.send(JSON.stringify(f)),
      async next(pred = () => true) {
        const i = await until(() => peer.frames.findIndex(pred) + 1, 5_000, 'a frame from the client')
        return peer.frames.splice(i - 1, 1)[0]
      },
      kill: () => ws.terminate(),
    }
    ws.on('message', (data) => {
      const f = JSON.parse(String(data))
      if (f.t !== 'hello') return void peer.frames.push(f)
      peer.send({ t: 'welcome', v: 1, conn: `n.x${peers.length + 1}`, node: 'n', hb: 15000, mf: 1048576 })
      peers.push(peer)
    })
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    /** The `i`-th connection (0 = the first), once it is welcomed. */
    peer: (i: number) => until(() => peers[i], 5_000, `connection ${i}`),
    async [Symbol.asyncDispose]() {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
    },
  }
}

function client(url: string) {
  return createClient(contract, { url, role: 'user', WebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
}

const isSub = (f: any) => f.t === 'sub'
const ack = (id: number, k: string, r: boolean, o: number, e: string) => ({ t: 'result', id, d: { k, r, o, e } })
const feedPub = (o: number, e = 'E1', k = 'r1') => ({ t: 'pub', n: 'feed', k, d: { text: `m${o}` }, o, e })

/** A feed subscription recording what its listener and onSubscribed get. */
function recordFeed(c: ReturnType<typeof client>, options: { since?: StreamPosition } = {}) {
  const got: { text: string; meta: StreamPosition }[] = []
  const infos: SubscribedInfo[] = []
  const sub = c.subscribe('feed', { room: 'r1' }, (m, meta) => got.push({ text: m.text, meta }), { onSubscribed: (i) => infos.push(i), ...options })
  return { sub, got, infos, texts: () => got.map((g) => g.text) }
}

/** A feed subscription answered as a fresh stream (top 0, epoch E1): what most cases start from. */
async function liveFeed(srv: Awaited<ReturnType<typeof scriptedServer>>, c: ReturnType<typeof client>, top = 0) {
  const feed = recordFeed(c)
  const peer = await srv.peer(0)
  const sub = await peer.next(isSub)
  peer.send(ack(sub.id, 'r1', false, top, 'E1'))
  return { feed, peer, firstId: sub.id as number }
}

describe('history topics on the client', () => {
  it('subscribes without a position, resolves ready with the ack info and delivers live publications with their position', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const feed = recordFeed(c)
    const peer = await srv.peer(0)
    const sub = await peer.next(isSub)
    expect(sub).toEqual({ t: 'sub', id: sub.id, n: 'feed', q: { room: 'r1' } }) // no `s`: nothing to recover from
    peer.send(ack(sub.id, 'r1', false, 2, 'E1'))
    const info = { recovered: false, wasRecovering: false, offset: 2, epoch: 'E1' }
    expect(await feed.sub.ready).toEqual(info)
    expect(feed.infos).toEqual([info])
    expect(feed.sub.position).toEqual({ offset: 2, epoch: 'E1' }) // the top: a reconnect recovers from here
    peer.send(feedPub(3))
    peer.send(feedPub(4))
    await until(() => feed.got.length >= 2, 5_000, 'two publications')
    expect(feed.got).toEqual([
      { text: 'm3', meta: { offset: 3, epoch: 'E1' } },
      { text: 'm4', meta: { offset: 4, epoch: 'E1' } },
    ])
    expect(feed.sub.position).toEqual({ offset: 4, epoch: 'E1' })
  })

  it('sends `since` on the first subscribe and delivers the replay after the ack, then live ones', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const feed = recordFeed(c, { since: { offset: 5, epoch: 'E1' } })
    expect(feed.sub.position).toEqual({ offset: 5, epoch: 'E1' })
    const peer = await srv.peer(0)
    const sub = await peer.next(isSub)
    expect(sub.s).toEqual({ o: 5, e: 'E1' })
    peer.send(ack(sub.id, 'r1', true, 7, 'E1'))
    for (const o of [6, 7, 8]) peer.send(feedPub(o))
    const info = { recovered: true, wasRecovering: true, offset: 7, epoch: 'E1' }
    expect(await feed.sub.ready).toEqual(info)
    await until(() => feed.got.length >= 3, 5_000, 'replay and live')
    expect(feed.texts()).toEqual(['m6', 'm7', 'm8'])
    expect(feed.infos).toEqual([info])
    expect(feed.sub.position).toEqual({ offset: 8, epoch: 'E1' })
  })

  it('resubscribes from the last position after a reconnect and delivers the replay once, in order', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const { feed, peer: first } = await liveFeed(srv, c)
    for (const o of [1, 2, 3]) first.send(feedPub(o))
    await until(() => feed.got.length >= 3, 5_000, 'live publications')
    first.kill()

    const second = await srv.peer(1)
    const sub2 = await second.next(isSub)
    expect(sub2).toMatchObject({ n: 'feed', q: { room: 'r1' }, s: { o: 3, e: 'E1' } })
    second.send(ack(sub2.id, 'r1', true, 5, 'E1'))
    // A replay that overlaps what was delivered (3) must not deliver it twice.
    for (const o of [3, 4, 5, 6]) second.send(feedPub(o))
    await until(() => feed.got.length >= 6, 5_000, 'replay and live')
    second.send(feedPub(6)) // a late duplicate of a live one
    second.send(feedPub(7))
    await until(() => feed.got.length >= 7, 5_000, 'the next live publication')
    expect(feed.texts()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'])
    expect(feed.infos).toEqual([
      { recovered: false, wasRecovering: false, offset: 0, epoch: 'E1' },
      { recovered: true, wasRecovering: true, offset: 5, epoch: 'E1' },
    ])
    // The second `sub` is the only frame the client sent on the new connection.
    expect(second.frames).toEqual([])
  })

  it('drops duplicate publications', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const { feed, peer } = await liveFeed(srv, c)
    for (const o of [1, 2, 2, 1, 3, 3]) peer.send(feedPub(o))
    peer.send(feedPub(4))
    await until(() => feed.texts().includes('m4'), 5_000, 'the last publication')
    expect(feed.texts()).toEqual(['m1', 'm2', 'm3', 'm4'])
    expect(peer.frames).toEqual([]) // duplicates are not holes: no repair
  })

  it('repairs a hole with a new sub from the position and delivers the held publications once, in order', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const { feed, peer, firstId } = await liveFeed(srv, c)
    for (const o of [1, 2, 4]) peer.send(feedPub(o))
    const repair = await peer.next(isSub)
    expect(repair).toMatchObject({ n: 'feed', q: { room: 'r1' }, s: { o: 2, e: 'E1' } })
    expect(repair.id).not.toBe(firstId)
    expect(feed.texts()).toEqual(['m1', 'm2']) // 4 is held, not delivered before 3
    expect(feed.sub.position).toEqual({ offset: 2, epoch: 'E1' })
    peer.send(feedPub(5)) // live, before the server handled the repair: held too, and no second repair
    peer.send(ack(repair.id, 'r1', true, 5, 'E1'))
    for (const o of [3, 4, 5]) peer.send(feedPub(o))
    peer.send(feedPub(6))
    await until(() => feed.got.length >= 6, 5_000, 'every publication')
    expect(feed.texts()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    expect(feed.got.map((g) => g.meta.offset)).toEqual([1, 2, 3, 4, 5, 6])
    expect(feed.infos.at(-1)).toEqual({ recovered: true, wasRecovering: true, offset: 5, epoch: 'E1' })
    expect(peer.frames).toEqual([])
  })

  it('tells onSubscribed when a hole cannot be recovered, and continues live from the top', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const { feed, peer } = await liveFeed(srv, c)
    for (const o of [1, 2, 4]) peer.send(feedPub(o))
    const repair = await peer.next(isSub)
    peer.send(ack(repair.id, 'r1', false, 9, 'E1')) // 3 is no longer retained
    peer.send(feedPub(10))
    await until(() => feed.got.length >= 3, 5_000, 'the next live publication')
    expect(feed.texts()).toEqual(['m1', 'm2', 'm10'])
    expect(feed.infos.at(-1)).toEqual({ recovered: false, wasRecovering: true, offset: 9, epoch: 'E1' })
    expect(feed.sub.position).toEqual({ offset: 10, epoch: 'E1' })
  })

  it('leaves the stream when unsubscribed while a repair is on its way', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const { feed, peer } = await liveFeed(srv, c)
    for (const o of [1, 3]) peer.send(feedPub(o))
    const repair = await peer.next(isSub)
    feed.sub()
    peer.send(ack(repair.id, 'r1', true, 3, 'E1'))
    for (const o of [2, 3]) peer.send(feedPub(o))
    expect(await peer.next()).toEqual({ t: 'unsub', n: 'feed', k: 'r1' })
    expect(feed.texts()).toEqual(['m1'])
    expect(feed.infos).toHaveLength(1) // the repair's answer came after the unsubscribe
  })

  it('asks again from its position when the server cannot reach its store (UNAVAILABLE), instead of ending the subscription', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const feed = recordFeed(c, { since: { offset: 4, epoch: 'E1' } })
    const peer = await srv.peer(0)
    const first = await peer.next(isSub)
    peer.send({ t: 'error', id: first.id, code: 'UNAVAILABLE', message: 'History store failed to read' })
    const second = await peer.next(isSub)
    expect(second.s).toEqual({ o: 4, e: 'E1' }) // the same position: nothing is skipped
    peer.send({ t: 'error', id: second.id, code: 'UNAVAILABLE', message: 'History store failed to read' })
    const third = await peer.next(isSub)
    peer.send(ack(third.id, 'r1', true, 5, 'E1'))
    peer.send(feedPub(5))
    expect(await feed.sub.ready).toEqual({ recovered: true, wasRecovering: true, offset: 5, epoch: 'E1' })
    await until(() => feed.got.length >= 1, 5_000, 'the replay')
    expect(feed.texts()).toEqual(['m5'])
  })

  it('still ends a history subscription the server refuses for good (FORBIDDEN)', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const refused: unknown[] = []
    c.subscribe('feed', { room: 'r1' }, () => {}, { onError: (e) => refused.push(e) })
    const peer = await srv.peer(0)
    const sub = await peer.next(isSub)
    peer.send({ t: 'error', id: sub.id, code: 'FORBIDDEN', message: 'no' })
    await until(() => refused.length === 1, 5_000, 'the refusal')
    await sleep(400) // longer than the first retry delay: nothing is sent again
    expect(peer.frames.filter(isSub)).toEqual([])
  })

  it('follows an epoch change, live and on a resubscribe', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const { feed, peer: first } = await liveFeed(srv, c, 2)
    first.send(feedPub(3))
    // The stream's storage was reset: offsets start again in a new epoch.
    first.send(feedPub(1, 'E2'))
    first.send(feedPub(2, 'E2'))
    // What the old life had after offset 3 may be lost: the client asks from its position, as for a
    // hole, and the server's answer (recovered: false, the new top) reaches the app — never a silent gap.
    const repair = await first.next(isSub)
    expect(repair.s).toEqual({ o: 3, e: 'E1' })
    first.send(ack(repair.id, 'r1', false, 1, 'E2'))
    await until(() => feed.got.length >= 2, 5_000, 'the publication past the new top')
    expect(feed.got.map((g) => g.meta)).toEqual([
      { offset: 3, epoch: 'E1' },
      { offset: 2, epoch: 'E2' },
    ])
    expect(feed.infos.at(-1)).toEqual({ recovered: false, wasRecovering: true, offset: 1, epoch: 'E2' })
    first.kill()

    const second = await srv.peer(1)
    const sub2 = await second.next(isSub)
    expect(sub2.s).toEqual({ o: 2, e: 'E2' })
    second.send(ack(sub2.id, 'r1', false, 4, 'E3')) // reset again while away: nothing replayed
    second.send(feedPub(5, 'E3'))
    await until(() => feed.got.length >= 3, 5_000, 'the live publication of the new epoch')
    expect(feed.got.at(-1)).toEqual({ text: 'm5', meta: { offset: 5, epoch: 'E3' } })
    expect(feed.infos.at(-1)).toEqual({ recovered: false, wasRecovering: true, offset: 4, epoch: 'E3' })
    expect(feed.sub.position).toEqual({ offset: 5, epoch: 'E3' })
  })

  it('gives a topic without params the same treatment', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const got: number[] = []
    const sub = c.subscribe('news', (_n, meta) => got.push(meta.offset), { since: { offset: 1, epoch: 'E9' } })
    const peer = await srv.peer(0)
    const frame = await peer.next(isSub)
    expect(frame).toEqual({ t: 'sub', id: frame.id, n: 'news', s: { o: 1, e: 'E9' } })
    peer.send(ack(frame.id, '', true, 2, 'E9'))
    peer.send({ t: 'pub', n: 'news', k: '', d: { headline: 'h' }, o: 2, e: 'E9' })
    expect(await sub.ready).toEqual({ recovered: true, wasRecovering: true, offset: 2, epoch: 'E9' })
    await until(() => got.length >= 1, 5_000, 'the replay')
    expect(got).toEqual([2])
    expect(sub.position).toEqual({ offset: 2, epoch: 'E9' })
  })

  it('leaves plain topics as they were: no `s`, no position, no meta fields, no de-duplication', async () => {
    await using srv = await scriptedServer()
    await using c = client(srv.url)
    const got: { n: number; meta: object }[] = []
    const sub = c.subscribe('plain', (m, meta) => got.push({ n: m.n, meta }))
    const first = await srv.peer(0)
    const sub1 = await first.next(isSub)
    expect(sub1).toEqual({ t: 'sub', id: sub1.id, n: 'plain' })
    first.send({ t: 'result', id: sub1.id, d: { k: '' } })
    expect(await sub.ready).toBeUndefined()
    for (const n of [1, 1, 3]) first.send({ t: 'pub', n: 'plain', k: '', d: { n } })
    await until(() => got.length >= 3, 5_000, 'three publications')
    expect(got).toEqual([
      { n: 1, meta: {} },
      { n: 1, meta: {} },
      { n: 3, meta: {} },
    ])
    expect(Object.keys(got[0]!.meta)).toEqual([])
    expect('position' in sub ? sub.position : undefined).toBeUndefined()
    first.kill()
    const second = await srv.peer(1)
    const sub2 = await second.next(isSub)
    expect(sub2).toEqual({ t: 'sub', id: sub2.id, n: 'plain' })
  })
})
