import type { Frame } from '@rt/contract'
import type { NativeFanout } from '@rt/rooms'
import { Encodings, type Codecs } from './codecs.js'
import type { Connection } from './connection.js'

/**
 * A transport's native pub/sub, per codec. A connection on the canonical codec subscribes to the
 * channel itself (its name unchanged, so a single-codec node is as before); one on another codec
 * to `<channel>#<codec name>`, which is published to, once, only while it has a subscriber here.
 */
export function nativeFanout(codecs: Codecs, publish: (channel: string, frame: Frame) => void): NativeFanout<Connection> {
  if (codecs.list.length === 1) {
    return {
      subscribe: (c, channel) => c.socket.subscribe?.(channel),
      unsubscribe: (c, channel) => c.socket.unsubscribe?.(channel),
      publish,
    }
  }
  const suffix = codecs.list.map((e, i) => (i === 0 ? '' : `#${e.name}`))
  // Subscribers here of each channel of a codec other than the first.
  const subscribers = new Map<string, number>()
  return {
    subscribe(c, channel) {
      if (c.codec === 0) return c.socket.subscribe?.(channel)
      const k = channel + suffix[c.codec]!
      subscribers.set(k, (subscribers.get(k) ?? 0) + 1)
      c.socket.subscribe?.(k)
    },
    unsubscribe(c, channel) {
      if (c.codec === 0) return c.socket.unsubscribe?.(channel)
      const k = channel + suffix[c.codec]!
      const n = (subscribers.get(k) ?? 1) - 1
      if (n > 0) subscribers.set(k, n)
      else subscribers.delete(k)
      c.socket.unsubscribe?.(k)
    },
    publish(channel, frame, source) {
      publish(channel, frame)
      if (codecs.others === 0) return
      let made: Encodings | undefined
      for (let i = 1; i < suffix.length; i++) {
        const k = channel + suffix[i]!
        if (subscribers.has(k)) publish(k, (made ??= new Encodings(codecs, frame, source)).get(i))
      }
    },
  }
}
