// The React chat: builds the page with Vite, then serves it and the @rt server on one port.
//
//   tsx src/main.ts        (pnpm start)   PORT (default 8080; 0: a free port), HOST (default 127.0.0.1)
import { buildPage } from './build-page.js'
import { serveChat } from './serve.js'

const log = (line: string) => process.stdout.write(`${line}\n`)

await buildPage()
const chat = await serveChat({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '127.0.0.1',
  onError: (e) => process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`),
})
log(`React chat on ${chat.url} (open it in two windows; ?name=ann skips the name form). Ctrl-C stops it.`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  chat.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
