// A bench's server node in a child process of its own, spoken to with one-reply IPC messages.
import { fork, type ChildProcess } from 'node:child_process'

/** Forks `script` (on TypeScript source, with our loader) and waits for the `{ port }` it sends when listening. */
export function startNode(script: URL, args: unknown, execArgv: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(script, [JSON.stringify(args)], {
    execArgv: [...execArgv, '--import', new URL('../loader/register.mjs', import.meta.url).href, '--conditions=@rt/source'],
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`server node exited (${code})`)))
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }))
  })
}

/** Sends `msg` and resolves with the child's next message (undefined if it exits first). */
export const ask = <T>(child: ChildProcess, msg: object) =>
  new Promise<T>((resolve) => {
    const gone = () => resolve(undefined as T)
    child.once('message', (m) => {
      child.off('exit', gone)
      resolve(m as T)
    })
    child.once('exit', gone)
    child.send(msg)
  })

/** Polls `fn` until it holds; throws after `timeoutMs`. */
export async function until(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** In the node: sends messages `from` … `from + messages - 1`, `perTurn` per event-loop turn. */
export function sendInTurns(from: number, messages: number, perTurn: number, send: (seq: number) => void): void {
  let seq = from
  const end = from + messages
  const turn = () => {
    for (let k = 0; k < perTurn && seq < end; k++) send(seq++)
    if (seq < end) setImmediate(turn)
  }
  turn()
}
