// Runs one attacking connection (a Script) over a real WebSocket and checks what came back
// against the grammar: every call/sub answered once with its id, no INTERNAL, only documented closes.
import WebSocket from 'ws'
import { helloOf, needOf, type Script, type WireFrame } from './frames.js'

/** Close codes docs/protocol.md (and RFC 6455, for transport-level refusals) allow after hostile input. */
export const DOCUMENTED_CLOSES: ReadonlySet<number> = new Set([
  1002, // protocol error (ws: unmasked or broken frame)
  1006, // cut without a close frame (uWS on a WebSocket-level error, see docs/transports.md)
  1007, // invalid UTF-8 in a text frame
  1009, // over maxFrameBytes
  4000, // not @rt protocol / frame before hello / too much held during the handshake
  4001, // authenticate refused, unknown role
  4002, // no hello in time
  4006, // too many bad or rate-limited frames
  4007, // another protocol version
  4008, // a codec the server does not serve
])

export interface SessionResult {
  /** Violations of the protocol's promises, empty when all held. */
  problems: string[]
  close: number | undefined
  framesSent: number
  bytesSent: number
  answers: number
  /** Answers missing on a connection still open. */
  missing: number
  /** Answers beyond one per frame. */
  extra: number
  /** INTERNAL errors answered to client input. */
  internal: number
  /** Closes with a code not in DOCUMENTED_CLOSES. */
  badClose: number
}

const describeFrame = (f: WireFrame) => (f.kind === 'text' ? (f.data.length > 300 ? `${f.data.slice(0, 300)}…(${f.data.length} chars)` : f.data) : `<${f.kind} ${Buffer.from(f.data).toString('hex').slice(0, 120)}>`)

function sendFrame(ws: WebSocket, f: WireFrame): void {
  if (f.kind === 'text') ws.send(f.data)
  else ws.send(Buffer.from(f.data), { binary: f.kind === 'binary' })
}

/** Opens a socket to `url`, plays `script`, waits for the answers (or the close), and checks them. */
export async function runSession(url: string, s: Script, answerTimeoutMs = 3_000): Promise<SessionResult> {
  const problems: string[] = []
  const ws = new WebSocket(url, { perMessageDeflate: false })
  ws.on('error', () => {})
  const got = new Map<number, number>()
  let welcomed = false
  let pongs = 0
  let answers = 0
  let internal = 0
  let close: number | undefined
  let wake: () => void = () => {}
  ws.on('message', (data: Buffer, isBinary) => {
    let f: any
    try {
      f = JSON.parse(data.toString())
    } catch {
      problems.push(`server sent a frame that is not JSON (${isBinary ? 'binary' : 'text'})`)
      return
    }
    if (f.t === 'welcome') welcomed = true
    else if (f.t === 'pong') pongs++
    else if (f.t === 'result' || f.t === 'authed' || (f.t === 'error' && f.id !== undefined)) {
      answers++
      got.set(f.id, (got.get(f.id) ?? 0) + 1)
    }
    if (f.t === 'error' && f.code === 'INTERNAL' && ++internal) problems.push(`INTERNAL answered to client input: ${JSON.stringify(f).slice(0, 300)}`)
    wake()
  })
  const closed = new Promise<void>((r) =>
    ws.on('close', (code) => {
      close = code
      r()
      wake()
    }),
  )
  let refused = ''
  const opened = await new Promise<boolean>((r) => {
    ws.once('open', () => r(true))
    ws.once('unexpected-response', (_req, res) => {
      refused = `HTTP ${res.statusCode}`
      r(false)
    })
    ws.once('error', (e) => {
      refused ||= e.message
      r(false)
    })
  })
  if (!opened) return { problems: [`could not connect: ${refused}`], close, framesSent: 0, bytesSent: 0, answers, missing: 0, extra: 0, internal, badClose: 0 }
  const waitFor = async (cond: () => boolean, ms: number) => {
    const end = Date.now() + ms
    while (!cond() && close === undefined && Date.now() < end) {
      await new Promise<void>((r) => {
        wake = r
        setTimeout(r, Math.max(1, end - Date.now()))
      })
    }
    return cond()
  }
  const must = new Map<number, number>()
  const may = new Map<number, number>()
  let framesSent = 0
  let bytesSent = 0
  // Only what follows a hello can be answered: a first frame of any other kind closes with 4000.
  let first: 'yes' | 'no' | 'maybe' | undefined
  const play = (frames: WireFrame[]) => {
    for (const f of frames) {
      if (ws.readyState !== WebSocket.OPEN) return
      sendFrame(ws, f)
      framesSent++
      bytesSent += f.kind === 'text' ? Buffer.byteLength(f.data) : f.data.byteLength
      if (first === undefined) {
        first = helloOf(f)
        continue
      }
      const n = first !== 'no' && needOf(f)
      if (!n) continue
      const table = n.need === 'must' && first === 'yes' ? must : may
      table.set(n.id, (table.get(n.id) ?? 0) + 1)
    }
  }
  play(s.before)
  if (s.hello !== undefined) play([{ kind: 'text', data: s.hello }])
  if (!s.pipelined && s.hello !== undefined) await waitFor(() => welcomed, 1_000)
  play(s.after)
  const allIn = () => [...must].every(([id, n]) => (got.get(id) ?? 0) >= n)
  await waitFor(allIn, answerTimeoutMs)
  // A ping barrier: anything answered synchronously has arrived once its pong has.
  if (close === undefined && ws.readyState === WebSocket.OPEN) {
    const before = pongs
    ws.send('{"t":"ping"}')
    await waitFor(() => pongs > before, 1_000)
  }
  // Still short and still open: under load, a close (or a slow answer) can take a while longer.
  if (!allIn()) await waitFor(allIn, 10_000)
  const stillOpen = close === undefined
  let missing = 0
  let extra = 0
  let badClose = 0
  for (const [id, n] of got) {
    const max = (must.get(id) ?? 0) + (may.get(id) ?? 0)
    if (n > max) {
      extra += n - max
      problems.push(`${n} answers with id ${id}, at most ${max} expected`)
    }
  }
  if (stillOpen) {
    for (const [id, n] of must) {
      const k = got.get(id) ?? 0
      if (k >= n) continue
      missing += n - k
      problems.push(`call/sub id ${id}: ${k} of ${n} answers, connection still open`)
    }
  } else if (!DOCUMENTED_CLOSES.has(close!)) {
    badClose++
    problems.push(`closed with undocumented code ${close}`)
  }
  if (stillOpen) ws.terminate()
  await closed
  // The server's close, not ours.
  if (stillOpen) close = undefined
  if (problems.length > 0) {
    problems.push(`script: before=[${s.before.map(describeFrame).join(' | ')}] hello=${s.hello} pipelined=${s.pipelined} after=[${s.after.map(describeFrame).join(' | ')}]`)
  }
  return { problems, close, framesSent, bytesSent, answers, missing, extra, internal, badClose }
}
