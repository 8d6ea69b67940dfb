// The child side of the harness's IPC: numbered requests in, one answer each out.

export interface Request {
  id: number
  cmd: string
  args: unknown
}

export type Answer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }

type Handlers = Record<string, (args: any) => unknown>

/** Serves `handlers` over the IPC channel; the process exits when its parent goes away. */
export function serveIpc(handlers: Handlers): void {
  const send = (a: Answer) => process.send?.(a)
  process.on('message', (m: Request) => {
    const h = handlers[m.cmd]
    if (!h) return send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` })
    Promise.resolve()
      .then(() => h(m.args))
      .then(
        (result) => send({ id: m.id, ok: true, result: result ?? null }),
        (e: unknown) => send({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
      )
  })
  // An orphan must not outlive the run.
  process.on('disconnect', () => process.exit(0))
}

/** Tells the parent this process is up, with what it wants known (port, …). */
export function announce(info: unknown): void {
  process.send?.({ ready: info })
}
