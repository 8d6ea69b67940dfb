// Imported by a test file's `vi.mock` factories: every server made through @rt/server serves
// JSON and MessagePack, and every client made through @rt/client asks for MessagePack, unless
// the test lists encoders of its own (its own single encoder stays the canonical one). The conformance suites then run unchanged.
import type * as Client from '@rt/client'
import { msgpackEncoder } from '@rt/codec-msgpack'
import { jsonEncoder } from '@rt/contract'
import type * as Server from '@rt/server'

export function withMsgpackClient(mod: typeof Client): typeof Client {
  const createClient = ((contract, options) => mod.createClient(contract, { encoder: msgpackEncoder, ...options })) as typeof Client.createClient
  return { ...mod, createClient }
}

export function withBothCodecs(mod: typeof Server): typeof Server {
  // A test's own encoder stays the canonical one (raw sockets in the suites speak it), MessagePack beside it.
  const createServer = ((options) => {
    if (options.encoders) return mod.createServer(options)
    const { encoder, ...rest } = options
    return mod.createServer({ ...rest, encoders: [encoder ?? jsonEncoder, msgpackEncoder] })
  }) as typeof Server.createServer
  return { ...mod, createServer }
}
