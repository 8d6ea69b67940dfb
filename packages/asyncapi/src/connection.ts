// The `connection` channel: the WebSocket itself, its handshake, heartbeat and goaway.
import { CloseCode, PROTOCOL_VERSION, TERMINAL_CLOSE_CODES } from '@rt/contract'
import type { DocumentBuilder } from './document.js'
import { authedFrame, authFrame, bareFrame, errorFrame, goawayFrame, helloFrame, refreshFrame, welcomeFrame } from './frames.js'

/** Channel id of the WebSocket connection. */
export const CONNECTION = 'connection'

const CLOSE_MEANING: Record<number, string> = {
  [CloseCode.NORMAL]: 'closed on purpose by the server',
  [CloseCode.GOING_AWAY]: 'server shutting down (after a goaway): reconnect at once',
  [CloseCode.MESSAGE_TOO_BIG]: 'a frame over the `mf` of the welcome',
  [CloseCode.TRY_AGAIN_LATER]: 'authenticate failed for a passing reason: retry with backoff',
  [CloseCode.PROTOCOL_ERROR]: 'not @rt protocol, or a frame before hello',
  [CloseCode.UNAUTHORIZED]: 'authenticate refused, or unknown role',
  [CloseCode.HANDSHAKE_TIMEOUT]: 'handshake not done in time',
  [CloseCode.FORBIDDEN]: 'Origin not allowed, or authenticate threw FORBIDDEN',
  [CloseCode.HEARTBEAT_TIMEOUT]: 'nothing heard within the timeout',
  [CloseCode.SLOW_CONSUMER]: 'outbound buffer over the limit',
  [CloseCode.RATE_LIMITED]: 'too many refused or malformed frames',
  [CloseCode.UNSUPPORTED_VERSION]: `the client speaks another protocol version than ${PROTOCOL_VERSION}`,
  [CloseCode.UNSUPPORTED_CODEC]: 'the client asked (by WebSocket subprotocol `rt.<codec>`) for a codec the server does not serve',
}

function closeCodes(): Record<string, { name: string; meaning: string; retry: boolean }> {
  const out: Record<string, { name: string; meaning: string; retry: boolean }> = {}
  for (const [name, code] of Object.entries(CloseCode)) {
    out[code] = { name, meaning: CLOSE_MEANING[code] ?? '', retry: !TERMINAL_CLOSE_CODES.has(code) }
  }
  return out
}

/** Adds the connection channel and its operations; `roles` are the values `hello.role` may take. */
export function addConnection(doc: DocumentBuilder, roles: string[]): void {
  doc.id('channels', CONNECTION)
  const codes = closeCodes()
  doc.channels[CONNECTION] = {
    address: '/',
    title: 'WebSocket connection',
    description:
      'One WebSocket per client. Every frame of every channel of this document travels on it as one JSON text message; ' +
      'the other channels are logical addresses that name what a frame carries in its `p` (procedure) or `n` (event, topic) field.',
    messages: {
      hello: { name: 'hello', title: 'Hello', summary: 'First frame of the client: protocol version, role and credentials.', payload: helloFrame(roles) },
      welcome: { name: 'welcome', title: 'Welcome', summary: 'The server accepted the hello.', payload: welcomeFrame() },
      ping: { name: 'ping', title: 'Ping', summary: 'Heartbeat; answered with pong.', payload: bareFrame('ping') },
      pong: { name: 'pong', title: 'Pong', summary: 'Answer to a ping.', payload: bareFrame('pong') },
      refresh: { name: 'refresh', title: 'Refresh', summary: 'The credentials expire soon: send fresh ones in an auth frame.', payload: refreshFrame() },
      auth: { name: 'auth', title: 'Auth', summary: 'Fresh credentials for an open connection.', payload: authFrame() },
      authed: { name: 'authed', title: 'Authed', summary: 'The fresh credentials were accepted.', payload: authedFrame() },
      authError: { name: 'authError', title: 'Auth refused', summary: 'An auth frame the server could not use (no expiry, another refresh running); the connection stays open.', payload: errorFrame(true) },
      goaway: { name: 'goaway', title: 'Goaway', summary: 'The server is shutting down: send no new calls, reconnect after the close.', payload: goawayFrame() },
      protocolError: { name: 'protocolError', title: 'Protocol error', summary: 'An error without id: a malformed frame, or a frame that is not a call.', payload: errorFrame(false) },
    },
    bindings: { ws: { method: 'GET', bindingVersion: '0.1.0' } },
    'x-rt-close-codes': codes,
  }
  const channel = doc.channelRef(CONNECTION)
  const msg = (m: string) => doc.messageRef(CONNECTION, m)
  const table = Object.entries(codes).map(([code, c]) => `| ${code} | ${c.name} | ${c.meaning} | ${c.retry ? 'yes' : 'no'} |`)
  doc.operations[doc.id('operations', 'connect')] = {
    action: 'send',
    channel,
    title: 'Connect',
    summary: 'Open the WebSocket, send hello, wait for welcome.',
    description: [
      'The first frame must be `hello`. The server runs its `authenticate` with `role` and `auth`, answers `welcome`,',
      'and only then handles the frames sent after the hello, in order. A refused handshake closes the socket:',
      '',
      '| close code | name | meaning | client retries |',
      '|---|---|---|---|',
      ...table,
    ].join('\n'),
    messages: [msg('hello')],
    reply: { channel, messages: [msg('welcome')] },
  }
  doc.operations[doc.id('operations', 'heartbeat')] = {
    action: 'receive',
    channel,
    summary: 'The server pings every `hb` ms; answer pong. More than 2 × hb without any frame means a dead link.',
    messages: [msg('ping')],
    reply: { channel, messages: [msg('pong')] },
  }
  doc.operations[doc.id('operations', 'clientPing')] = {
    action: 'send',
    channel,
    summary: 'A client may ping too; the server answers pong.',
    messages: [msg('ping')],
    reply: { channel, messages: [msg('pong')] },
  }
  doc.operations[doc.id('operations', 'refreshCredentials')] = {
    action: 'receive',
    channel,
    summary: 'Before the credentials of the welcome (`x`) expire, the server asks for fresh ones.',
    description: 'Answer with an `auth` frame. The server runs `authenticate` again (same user and role); refused, or nothing accepted by the expiry: close 4001.',
    messages: [msg('refresh')],
  }
  doc.operations[doc.id('operations', 'sendCredentials')] = {
    action: 'send',
    channel,
    summary: 'Fresh credentials, when asked (`refresh`) or at any time on a connection that expires.',
    messages: [msg('auth')],
    reply: { channel, messages: [msg('authed'), msg('authError')] },
  }
  doc.operations[doc.id('operations', 'goaway')] = { action: 'receive', channel, summary: 'Graceful shutdown: in-flight calls still get their answer, then the server closes with 1001.', messages: [msg('goaway')] }
  doc.operations[doc.id('operations', 'protocolError')] = { action: 'receive', channel, summary: 'A frame the server could not use; the connection stays open.', messages: [msg('protocolError')] }
}
