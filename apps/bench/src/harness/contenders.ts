import type { ServerConfig } from '../server/bench-server.js'
import type { ProtocolName } from '../wire/protocols.js'

export type ContenderId = ServerConfig['kind']

export interface Contender {
  id: ContenderId
  label: string
  protocol: ProtocolName
  /** Can run as several nodes on a cluster bus (NATS for @rt, Redis for Socket.IO). */
  cluster: boolean
}

export const CONTENDERS: readonly Contender[] = [
  { id: 'rt-uws', label: '@rt + uWS', protocol: 'rt', cluster: true },
  { id: 'rt-ws', label: '@rt + ws', protocol: 'rt', cluster: true },
  { id: 'raw-uws', label: 'raw uWS', protocol: 'raw', cluster: false },
  { id: 'raw-ws', label: 'raw ws', protocol: 'raw', cluster: false },
  { id: 'sio', label: 'Socket.IO 4', protocol: 'sio', cluster: true },
]
