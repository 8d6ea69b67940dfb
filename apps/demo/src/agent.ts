// The agent: a separate Node process that connects with role `agent`, receives agent-only
// `task` events and answers through agent procedures. Started by main.ts.
import WebSocket from 'ws'
import { createClient, type WebSocketConstructor } from '@rt/client'
import { answer } from './bot.js'
import { contract } from './contract.js'

const urls = (process.env.RT_URLS ?? 'ws://127.0.0.1:8080/rt').split(',')
let next = 0
let stopping = false

const bot = createClient(contract, {
  // Rotate through the nodes: after a drop, the next attempt goes to another node.
  url: () => urls[next++ % urls.length]!,
  role: 'agent',
  auth: { name: 'bot', token: process.env.AGENT_TOKEN },
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  onError: (e) => process.stderr.write(`[agent] ${e instanceof Error ? e.message : String(e)}\n`),
})

bot.on('task', async (task) => {
  try {
    // A moment to "think": the room shows "bot is typing" meanwhile.
    await new Promise((r) => setTimeout(r, 400))
    const text = await answer(task.from, task.text, () => bot.call.stats({}))
    await bot.call.reply({ task: task.id, room: task.room, to: task.from, text })
  } catch (e) {
    process.stderr.write(`[agent] task ${task.id} failed: ${e instanceof Error ? e.message : String(e)}\n`)
  }
})

bot.onStateChange(({ state, error }) => {
  if (state === 'open') process.send?.({ type: 'ready', node: bot.nodeId })
  if (state === 'closed' && error && !stopping) process.stderr.write(`[agent] stopped: ${error.message}\n`)
})

const stop = async () => {
  if (stopping) return
  stopping = true
  await bot.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
process.on('disconnect', () => void stop())
