import { PROTOCOL_VERSION, type AnyContract } from '@rt/contract'
import { addConnection } from './connection.js'
import { DocumentBuilder, type AsyncApiDocument, type AsyncApiServer } from './document.js'
import { errorFrame } from './frames.js'
import { CALL_ERROR, addVocabulary } from './vocabulary.js'

/** Options of `toAsyncApi`. */
export interface AsyncApiOptions {
  /** `info.title` of the document. */
  title: string
  /** `info.version`: the version of your API, not of AsyncAPI. */
  version: string
  /** Prepended to the generated `info.description`. */
  description?: string
  /** Where clients connect: a `ws://` or `wss://` URL, or an AsyncAPI Server Object, by server name. */
  servers?: Record<string, string | AsyncApiServer>
}

const ABOUT =
  `Generated from an @rt contract (wire protocol v${PROTOCOL_VERSION}). It describes a client: \`send\` operations are frames the client sends, ` +
  '`receive` operations frames it receives. Everything travels on one WebSocket (channel `connection`); a procedure is a `call` answered by one `result` ' +
  'or `error` with the same id, an event is an `event` frame, a topic is a `sub` answered by a `result` (the subAck) and followed by `pub` frames. ' +
  'Operations are tagged with the scope that declares them: `shared` (every role) or a role; `x-rt-roles` lists the roles that may use each one.'

/** Builds the AsyncAPI 3.0.0 document of a contract: the connection and its handshake, and every procedure, event and topic per scope. */
export function toAsyncApi(contract: AnyContract, options: AsyncApiOptions): AsyncApiDocument {
  const doc = new DocumentBuilder()
  const roles = Object.keys(contract.roles)
  addConnection(doc, roles)
  doc.messages[CALL_ERROR] = { name: 'error', title: 'Error', summary: 'The answer to a call or a sub that failed; `id` is the id of that frame.', payload: errorFrame(true) }
  addVocabulary(doc, 'shared', contract.shared ?? {}, roles)
  for (const role of roles) addVocabulary(doc, role, contract.roles[role] ?? {}, [role])
  const servers = options.servers ? Object.fromEntries(Object.entries(options.servers).map(([n, s]) => [n, typeof s === 'string' ? serverFromUrl(s) : s])) : undefined
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title,
      version: options.version,
      description: options.description ? `${options.description}\n\n${ABOUT}` : ABOUT,
      tags: [
        { name: 'shared', description: 'Declared in `shared`: every role may use it.' },
        ...roles.map((r) => ({ name: r, description: `Declared by role "${r}": only connections whose hello says role "${r}" may use it.` })),
      ],
      'x-rt-protocol': PROTOCOL_VERSION,
    },
    ...(servers ? { servers } : {}),
    defaultContentType: 'application/json',
    channels: doc.channels,
    operations: doc.operations,
    components: { schemas: doc.schemas, messages: doc.messages },
  }
}

/** An AsyncAPI Server Object from a `ws://` or `wss://` URL; throws on anything else. */
export function serverFromUrl(url: string): AsyncApiServer {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new TypeError(`toAsyncApi: "${url}" is not a URL (expected ws://host[:port][/path] or wss://…)`)
  }
  const protocol = u.protocol.replace(/:$/, '')
  if (protocol !== 'ws' && protocol !== 'wss') throw new TypeError(`toAsyncApi: server URL "${url}" must start with ws:// or wss://`)
  return { host: u.host, protocol, ...(u.pathname && u.pathname !== '/' ? { pathname: u.pathname } : {}) }
}
