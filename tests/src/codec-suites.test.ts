import { describe, expect, it, vi } from 'vitest'
import { memoryBuses } from './bus-sets.js'
import { connect, startServer, until, wsTransport } from './harness.js'
import { describeAuthRefresh } from './suites/auth-refresh.js'
import { describeEvents } from './suites/events.js'
import { describeHardening } from './suites/hardening.js'
import { describeHistory } from './suites/history.js'
import { describeLifecycle } from './suites/lifecycle.js'
import { describePresence } from './suites/presence.js'
import { describeRpc } from './suites/rpc.js'
import { describeTopics } from './suites/topics.js'
import { uwsTransport } from './uws-transport.js'

// The conformance suites with every @rt client on MessagePack, against servers that serve JSON
// and MessagePack (raw sockets in the suites speak JSON: the same servers serve both at once).
vi.mock('@rt/client', async (importOriginal) => (await import('./codecs/msgpack-defaults.js')).withMsgpackClient(await importOriginal()))
vi.mock('@rt/server', async (importOriginal) => (await import('./codecs/msgpack-defaults.js')).withBothCodecs(await importOriginal()))

const transports = [
  { name: 'ws', make: wsTransport },
  { name: 'uWebSockets.js', make: uwsTransport },
]

describe('the suites below run on MessagePack', () => {
  for (const { name, make } of transports) {
    it(`connects the harness client with MessagePack over ${name}`, async () => {
      await using s = await startServer(make)
      await using client = connect(s.url, 'user')
      await client.ready()
      await until(() => s.srv.connections.size === 1)
      const conn = [...s.srv.connections.values()][0] as unknown as { encoder: { name: string } }
      expect(conn.encoder.name).toBe('msgpack')
      expect(await client.call.echo({ text: 'héllo ☃', n: 3 })).toEqual({ text: 'héllo ☃', n: 3 })
    })
  }
})

for (const { name, make } of transports) {
  describeRpc(`${name} with MessagePack`, make)
  describeEvents(`${name} with MessagePack`, make)
  describeHardening(`${name} with MessagePack`, make)
  describeAuthRefresh(`${name} with MessagePack`, make)
  describeHistory(`${name} with MessagePack`, make)
  // Its child server (killed mid-call) serves both codecs too.
  describeLifecycle(`${name} with MessagePack`, make, { RT_CODECS: 'msgpack', ...(make === uwsTransport && { RT_TRANSPORT: 'uws' }) })
  describeTopics(`the memory bus over ${name} with MessagePack`, memoryBuses, make)
}
describePresence('the memory bus with MessagePack', memoryBuses, wsTransport)
