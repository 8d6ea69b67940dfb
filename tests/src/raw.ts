import WebSocket from 'ws'

/**
 * What a bare WebSocket received, kept until a test takes it: `next(pred)` waits for the first
 * item matching, `closed()` for the close. Shared by the raw sockets of the tests.
 */
export function inbox<T>(ws: WebSocket, read: (data: Buffer, isBinary: boolean) => T, matches: (item: T, pred: (f: any) => boolean) => boolean) {
  const items: T[] = []
  const waiters: (() => void)[] = []
  let closed: { code: number; reason: string } | undefined
  const wake = () => {
    for (const w of waiters.splice(0)) w()
  }
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    items.push(read(d, isBinary))
    wake()
  })
  const closedP = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() }
      r(closed)
      wake()
    }),
  )
  ws.on('error', () => {})
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })))
    ws.once('error', reject)
  })
  return {
    items,
    opened,
    closed: () => closedP,
    get isClosed() {
      return closed !== undefined
    },
    /** Waits for the first item matching `pred` and takes it. */
    async next(pred: (f: any) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
      const end = Date.now() + timeoutMs
      for (;;) {
        const i = items.findIndex((item) => matches(item, pred))
        if (i >= 0) return items.splice(i, 1)[0]!
        if (closed) throw new Error(`socket closed (${closed.code}${closed.reason ? ` ${closed.reason}` : ''}) before the frame arrived`)
        const left = end - Date.now()
        if (left <= 0) throw new Error('timed out waiting for a frame')
        await new Promise<void>((r) => {
          waiters.push(r)
          setTimeout(r, left)
        })
      }
    },
    async [Symbol.asyncDispose]() {
      if (!closed) {
        ws.terminate()
        await closedP
      }
    },
  }
}

/** A bare WebSocket speaking the wire protocol by hand, for tests of what typed clients cannot send. */
export async function rawSocket(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers })
  const box = inbox<any>(ws, (d, isBinary) => (isBinary ? d : JSON.parse(d.toString())), (f, pred) => pred(f))
  await box.opened
  return {
    ws,
    frames: box.items,
    send: (f: unknown) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
    closed: box.closed,
    get isClosed() {
      return box.isClosed
    },
    /** Waits for the first frame matching `pred`. */
    next: box.next,
    async hello(role = 'user', auth: unknown = { name: 'raw' }) {
      ws.send(JSON.stringify({ t: 'hello', v: 1, role, auth }))
      return this.next((f) => f.t === 'welcome')
    },
    [Symbol.asyncDispose]: () => box[Symbol.asyncDispose](),
  }
}
