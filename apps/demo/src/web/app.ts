// The page: plain DOM and the typed @rt client. This file talks to the server; render.ts draws.
import { createClient, type Client } from '@rt/client'
import { ROOM_NAME, contract, type Contract } from '../contract.js'
import { $, avatar, explain, notice } from './dom.js'
import { addLine, render, renderActivity, renderConn, renderDms, renderHead, renderMessages, renderOnline, renderRooms } from './render.js'
import { config, keyOf, reset, state, type Activity } from './state.js'

// Every node of the cluster; the page starts on the one that served it and moves on after a drop.
const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
const urls = config.nodes.map((n) => `${scheme}://${location.hostname}:${n.port || location.port}${n.path}`)

let client: Client<Contract, 'user'> | undefined
let stopActivity: (() => void) | undefined
/** The `messages` stream of every room we are in: kept across reconnections by the client itself. */
const following = new Map<string, () => void>()
let lastTyping = 0

function start(name: string): void {
  state.me = name
  let attempt = config.self
  const c = createClient(contract, {
    // A function: called before every attempt, so after a drop the page tries the next node.
    url: () => urls[attempt++ % urls.length]!,
    role: 'user',
    auth: { name },
    reconnect: { minDelayMs: 250, maxDelayMs: 5_000 },
    onError: (e) => console.warn('[rt]', e),
  })
  client = c
  ;(window as unknown as { rtDemo: unknown }).rtDemo = { client: c } // for poking around in devtools

  // Events: the server picks who gets them.
  c.on('dm', (d) => {
    const peer = d.from === state.me ? d.to : d.from
    state.dmPeers.add(peer)
    addLine(`dm:${peer}`, d)
    renderDms()
  })

  // Topics: the page opts in; the client restores them after every reconnection.
  c.subscribe('presence', (p) => {
    if (p.online) state.online.set(p.user, { role: p.role, nodes: state.online.get(p.user)?.nodes ?? [] })
    else state.online.delete(p.user)
    renderOnline()
    renderDms()
    renderHead()
    if (p.online) refreshWho()
  })
  c.subscribe('roomStats', ({ room, members }) => {
    state.roomMembers.set(room, members)
    renderRooms()
    renderHead()
  })

  c.onStateChange((change) => {
    state.connection = change.state
    state.nodeId = c.nodeId
    renderConn()
    if (change.state === 'open') void resync(c)
    if (change.state === 'closed' && c === client) showLogin(change.error ? explain(change.error) : 'Disconnected')
  })

  $('login').hidden = true
  $('app').hidden = false
  $('me').textContent = name
  $('me-avatar').replaceWith(Object.assign(avatar(name), { id: 'me-avatar' }))
  state.connection = c.state
  renderConn()
  void openRoom('general')
}

/** After every (re)connection: rejoin our rooms (a new connection has none), then fetch what the page shows. */
async function resync(c: Client<Contract, 'user'>): Promise<void> {
  if (state.joined.size === 0) state.joined.add('general')
  for (const room of state.joined) follow(c, room)
  // Called from the `open` state change: these joins go out before the calls that waited
  // offline (say, a message typed while reconnecting), so those find us in the room again.
  const rejoin = Promise.all([...state.joined].map(async (room) => state.roomMembers.set(room, (await c.call.join({ room })).members)))
  rejoin.catch(() => {}) // reported below, once
  try {
    const [{ users }, { rooms }] = await Promise.all([c.call.who({}), c.call.rooms({})])
    state.online.clear()
    for (const u of users) state.online.set(u.id, { role: u.role, nodes: u.nodes })
    for (const r of rooms) state.roomMembers.set(r.name, r.members)
    await rejoin
    render()
  } catch (e) {
    if (c === client) notice(explain(e))
  }
}

let whoTimer: ReturnType<typeof setTimeout> | undefined
/** Node tags of newcomers (or of someone who moved to another node): one `who` call per burst. */
function refreshWho(): void {
  clearTimeout(whoTimer)
  whoTimer = setTimeout(async () => {
    try {
      const { users } = await client!.call.who({})
      for (const u of users) if (state.online.has(u.id)) state.online.set(u.id, { role: u.role, nodes: u.nodes })
      renderOnline()
    } catch {}
  }, 150)
}

/**
 * A room's messages: a topic with history. The page shows the room's last messages (`recent`),
 * then subscribes from the position right after them, so nothing said in between is lost or
 * shown twice. After a reconnection the client resubscribes from the last message it delivered,
 * so what was said meanwhile arrives once, in order. When the server no longer has all of it
 * (`recovered: false`), the page says so.
 */
function follow(c: Client<Contract, 'user'>, room: string): void {
  if (following.has(room)) return
  const key = `room:${room}`
  let stop: (() => void) | undefined
  let stopped = false
  following.set(room, () => {
    stopped = true
    stop?.()
  })
  void (async () => {
    let since: { offset: number; epoch: string } | undefined
    try {
      const recent = await c.call.recent({ room })
      if (stopped) return
      state.lines.set(key, recent.messages) // the room as it stands (none of it unread), replacing what a rejoin left
      if (key === keyOf(state.view)) renderMessages()
      since = { offset: recent.offset, epoch: recent.epoch }
    } catch {
      // No history to show: follow from now on.
    }
    if (stopped) return
    stop = c.subscribe(
      'messages',
      { room },
      (m) => {
        addLine(key, m)
        if (state.view.kind === 'room' && state.view.name === m.room) stopTyping(m.from)
      },
      {
        ...(since && { since }),
        onSubscribed: ({ recovered, wasRecovering }) => {
          if (wasRecovering && !recovered) addLine(key, { from: 'system', text: `Messages sent to #${room} while you were away could not be recovered`, at: Date.now(), system: true })
        },
        onError: (e) => {
          following.delete(room)
          notice(explain(e))
        },
      },
    )
  })()
}

function unfollow(room: string): void {
  following.get(room)?.()
  following.delete(room)
}

function stopTyping(user: string): void {
  if (!state.typing.has(user)) return
  clearTimeout(state.typing.get(user))
  state.typing.delete(user)
  renderActivity()
}

function onActivity(room: string, a: Activity): void {
  state.roomMembers.set(room, a.members)
  if (a.kind === 'typing') {
    if (a.user === state.me) return
    clearTimeout(state.typing.get(a.user))
    state.typing.set(
      a.user,
      setTimeout(() => stopTyping(a.user), 3_000),
    )
    renderActivity()
  } else if (a.user !== state.me) {
    addLine(`room:${room}`, { from: a.user, text: `${a.user} ${a.kind} #${room}`, at: Date.now(), system: true })
    // Someone who joins may have reconnected to another node: refresh the node tags.
    if (a.kind === 'joined') refreshWho()
  }
  renderRooms()
  renderHead()
}

/** The per-room topic (params `{ room }`): follow the room on screen, drop the one we left. */
function watchActivity(): void {
  stopActivity?.()
  stopActivity = undefined
  for (const user of [...state.typing.keys()]) stopTyping(user)
  const { view } = state
  if (view.kind !== 'room' || !client) return
  const room = view.name
  stopActivity = client.subscribe('activity', { room }, (a) => onActivity(room, a), { onError: (e) => notice(explain(e)) })
}

/** On a phone the lists and the chat take the screen in turn (style.css); elsewhere this is a no-op. */
function showLists(open: boolean): void {
  $('app').classList.toggle('nav-open', open)
  $('nav-toggle').setAttribute('aria-expanded', String(open))
}

async function openRoom(name: string): Promise<void> {
  if (!ROOM_NAME.test(name)) return notice('A room name is 1-24 lowercase letters, digits or -')
  showLists(false)
  state.view = { kind: 'room', name }
  state.unread.delete(keyOf(state.view))
  watchActivity()
  render()
  $('text').focus()
  if (state.joined.has(name) || !client) return
  // Follow first: nothing said between the join and the subscription is missed.
  follow(client, name)
  try {
    const { members } = await client.call.join({ room: name })
    state.joined.add(name)
    state.roomMembers.set(name, members)
    render()
  } catch (e) {
    if (!state.joined.has(name)) unfollow(name)
    notice(explain(e))
  }
}

function openDm(peer: string): void {
  if (peer === state.me) return
  showLists(false)
  state.view = { kind: 'dm', peer }
  state.dmPeers.add(peer)
  state.unread.delete(keyOf(state.view))
  watchActivity()
  render()
  $('text').focus()
}

async function leaveRoom(): Promise<void> {
  const { view } = state
  if (view.kind !== 'room' || !client) return
  try {
    const { members } = await client.call.leave({ room: view.name })
    state.joined.delete(view.name)
    unfollow(view.name)
    state.roomMembers.set(view.name, members)
    addLine(`room:${view.name}`, { from: state.me, text: `You left #${view.name}`, at: Date.now(), system: true })
    render()
  } catch (e) {
    notice(explain(e))
  }
}

async function send(text: string): Promise<void> {
  const { view } = state
  if (!client) return
  if (view.kind === 'dm') return void (await client.call.dm({ to: view.peer, text }))
  if (!state.joined.has(view.name)) await openRoom(view.name)
  await client.call.say({ room: view.name, text })
}

function showLogin(error = ''): void {
  const c = client
  client = undefined
  stopActivity = undefined
  following.clear() // the client closes below, and its subscriptions with it
  showLists(false)
  void c?.close()
  sessionStorage.removeItem('rt-demo-name')
  reset()
  $('app').hidden = true
  $('login').hidden = false
  $('login-error').textContent = error
  $<HTMLInputElement>('name').focus()
}

// ---- wiring -----------------------------------------------------------------------------------

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const name = $<HTMLInputElement>('name').value.trim()
  sessionStorage.setItem('rt-demo-name', name) // per tab: two tabs can be two people
  localStorage.setItem('rt-demo-name', name)
  $('login-error').textContent = ''
  start(name)
})

$('composer').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  const input = $<HTMLInputElement>('text')
  const text = input.value.trim()
  if (!text) return
  input.value = ''
  try {
    await send(text)
  } catch (e) {
    input.value ||= text
    notice(explain(e))
  }
})

$('text').addEventListener('input', () => {
  const { view } = state
  if (view.kind !== 'room' || client?.state !== 'open' || Date.now() - lastTyping < 2_000) return
  lastTyping = Date.now()
  void client.call.typing({ room: view.name }, { offline: 'fail' }).catch(() => {})
})

$('new-room').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const input = $<HTMLInputElement>('new-room-name')
  const name = input.value.trim().toLowerCase().replace(/\s+/g, '-')
  input.value = ''
  if (name) void openRoom(name)
})

const clicked = (ev: Event, key: string) => (ev.target as HTMLElement).closest<HTMLElement>(`[data-${key}]`)?.dataset[key]
$('rooms').addEventListener('click', (ev) => {
  const room = clicked(ev, 'room')
  if (room) void openRoom(room)
})
$('dms').addEventListener('click', (ev) => {
  const peer = clicked(ev, 'dm')
  if (peer) openDm(peer)
})
$('online').addEventListener('click', (ev) => {
  const user = clicked(ev, 'user')
  if (user) openDm(user)
})
$('leave-room').addEventListener('click', () => void leaveRoom())
$('nav-toggle').addEventListener('click', () => showLists(!$('app').classList.contains('nav-open')))
$('logout').addEventListener('click', () => showLogin())

const saved = sessionStorage.getItem('rt-demo-name')
$<HTMLInputElement>('name').value = saved ?? localStorage.getItem('rt-demo-name') ?? ''
if (saved) start(saved)
