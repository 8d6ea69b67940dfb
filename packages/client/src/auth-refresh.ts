import { RtError, errorFromFrame, type AuthFrame, type AuthedFrame, type Encoder, type ErrorFrame } from '@rt/contract'
import type { WebSocketLike } from './types.js'

/** What refreshing needs from its client. */
export interface RefreshLink {
  encoder: Encoder
  nextId: () => number
  /** The open socket, or undefined while not connected. */
  open: () => WebSocketLike | undefined
  /** Evaluates the `auth` option (a function is called again). */
  credentials: () => unknown
  timeoutMs: number
}

interface Pending {
  id: number
  resolve: () => void
  reject: (e: unknown) => void
  timer: ReturnType<typeof setTimeout>
}

const notOpen = () => new RtError('CONNECTION_LOST', 'Not connected: the credentials go with the next hello')

/** Sends fresh credentials on the open connection (`auth` frame) and settles when the server answers `authed`. */
export class AuthRefresh {
  private pending: Pending | undefined
  private running: Promise<void> | undefined

  constructor(private readonly link: RefreshLink) {}

  /** One refresh at a time: a second request while one runs shares it. */
  refresh(): Promise<void> {
    if (this.running) return this.running
    const p = this.run().finally(() => {
      if (this.running === p) this.running = undefined
    })
    this.running = p
    return p
  }

  /** Settles the refresh an `authed` or `error` frame answers; false if the id is not its. */
  answer(f: AuthedFrame | ErrorFrame): boolean {
    const p = this.pending
    if (!p || f.id !== p.id) return false
    this.settle()
    if (f.t === 'authed') p.resolve()
    else p.reject(errorFromFrame(f))
    return true
  }

  /** The link dropped: a refresh waiting for its answer fails with why (UNAUTHORIZED after a refused one). */
  lost(error: RtError): void {
    const p = this.pending
    if (!p) return
    this.settle()
    p.reject(error)
  }

  private async run(): Promise<void> {
    const { link } = this
    const before = link.open()
    if (!before) throw notOpen()
    let auth: unknown
    try {
      auth = await link.credentials()
    } catch (e) {
      if (e instanceof RtError) throw e
      throw new RtError('UNAUTHORIZED', `The auth option threw: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e })
    }
    // The link may have changed while `auth` ran: the next hello carries fresh credentials anyway.
    const s = link.open()
    if (s !== before) throw notOpen()
    return new Promise<void>((resolve, reject) => {
      const id = link.nextId()
      const timer = setTimeout(() => {
        this.settle()
        reject(new RtError('TIMEOUT', `The server did not answer the refresh within ${link.timeoutMs} ms`))
      }, link.timeoutMs)
      this.pending = { id, resolve, reject, timer }
      const f: AuthFrame = auth === undefined ? { t: 'auth', id } : { t: 'auth', id, auth }
      s.send(link.encoder.encode(f))
    })
  }

  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer)
    this.pending = undefined
  }
}
