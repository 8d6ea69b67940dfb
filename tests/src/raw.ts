import WebSocket from 'ws'

/** A bare WebSocket speaking the wire protocol by hand, for tests of what typed clients cannot send. */
export async function rawSocket(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers })
  const frames: any[] = []
  const waiters: (() => void)[] = []
  let closed: { code: number; reason: string } | undefined
  ws.on('message', (d, isBinary) => {
    frames.push(isBinary ? d : JSON.parse(d.toString()))
    for (const w of waiters.splice(0)) w()
  })
  const closedP = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() }
      r(closed)
      for (const w of waiters.splice(0)) w()
    }),
  )
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })))
    ws.once('error', reject)
  })
  return {
    ws,
    frames,
    send: (f: unknown) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
    closed: () => closedP,
    get isClosed() {
      return closed !== undefined
    },
    /** Waits for the first frame matching `pred`. */
    async next(pred: (f: any) => boolean = () => true, timeoutMs = 5_000): Promise<any> {
      const end = Date.now() + timeoutMs
      for (;;) {
        const i = frames.findIndex(pred)
        if (i >= 0) return frames.splice(i, 1)[0]
        if (closed) throw new Error(`socket closed (${closed.code}) before the frame arrived`)
        const left = end - Date.now()
        if (left <= 0) throw new Error('timed out waiting for a frame')
        await new Promise<void>((r) => {
          waiters.push(r)
          setTimeout(r, left)
        })
      }
    },
    async hello(role = 'user', auth: unknown = { name: 'raw' }) {
      ws.send(JSON.stringify({ t: 'hello', v: 1, role, auth }))
      return this.next((f) => f.t === 'welcome')
    },
    [Symbol.asyncDispose]: async () => {
      if (!closed) {
        ws.terminate()
        await closedP
      }
    },
  }
}
