// Draws the page from `state`. Clicks are handled in app.ts (event delegation on the lists).
import { $, avatar, el, time } from './dom.js'
import { config, keyOf, state, type Line } from './state.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

export function renderConn(): void {
  const badge = $('conn')
  const s = state.connection
  badge.dataset.state = s
  $('conn-text').textContent = s === 'open' ? `connected · node ${state.nodeId ?? '?'}` : s === 'reconnecting' ? 'reconnecting…' : s
  badge.title = `${plural(config.nodes.length, 'node')} · transport ${config.transport}`
  $('composer').classList.toggle('offline', s !== 'open')
  renderHead()
}

export function renderRooms(): void {
  const { view, joined, roomMembers, unread } = state
  const names = [...new Set([...roomMembers.keys(), ...joined])].sort()
  $('rooms').replaceChildren(
    ...names.map((name) => {
      const count = unread.get(`room:${name}`) ?? 0
      const active = view.kind === 'room' && view.name === name
      return el(
        'li',
        { className: `item${active ? ' active' : ''}${joined.has(name) ? ' joined' : ''}`, dataset: { room: name } },
        el('span', { className: 'hash', textContent: '#' }),
        el('span', { className: 'name', textContent: name }),
        count > 0 ? el('span', { className: 'unread', textContent: String(count) }) : '',
        el('span', { className: 'members', textContent: String(roomMembers.get(name) ?? 0), title: 'members' }),
      )
    }),
  )
}

export function renderDms(): void {
  const { view, dmPeers, unread, online } = state
  const peers = [...dmPeers].sort()
  if (peers.length === 0) return void $('dms').replaceChildren(el('li', { className: 'empty', textContent: 'Click someone online to DM them.' }))
  $('dms').replaceChildren(
    ...peers.map((peer) => {
      const count = unread.get(`dm:${peer}`) ?? 0
      const active = view.kind === 'dm' && view.peer === peer
      return el(
        'li',
        { className: `item${active ? ' active' : ''}${online.has(peer) ? '' : ' offline'}`, dataset: { dm: peer } },
        avatar(peer),
        el('span', { className: 'name', textContent: peer }),
        count > 0 ? el('span', { className: 'unread', textContent: String(count) }) : '',
      )
    }),
  )
}

export function renderOnline(): void {
  const { me, online } = state
  const users = [...online.entries()].sort(([a], [b]) => (a === me ? -1 : b === me ? 1 : a.localeCompare(b)))
  $('online-count').textContent = String(users.length)
  $('online').replaceChildren(
    ...users.map(([id, u]) =>
      el(
        'li',
        { className: `item person${id === me ? ' self' : ''}`, dataset: { user: id }, title: id === me ? 'you' : `Message ${id}` },
        avatar(id),
        el('span', { className: 'name', textContent: id === me ? `${id} (you)` : id }),
        u.role === 'agent' ? el('span', { className: 'tag agent', textContent: 'agent' }) : '',
        u.nodes.length > 0 ? el('span', { className: 'tag node', textContent: u.nodes.join(' '), title: 'connected to node' }) : '',
      ),
    ),
  )
}

function lineItem(line: Line): HTMLElement {
  const { me } = state
  if (line.system) return el('li', { className: 'msg system' }, el('span', { textContent: line.text }), el('time', { textContent: time(line.at) }))
  const mention = line.from !== me && new RegExp(`(^|\\W)@${me}\\b`, 'i').test(line.text)
  return el(
    'li',
    { className: `msg${line.from === me ? ' mine' : ''}${mention ? ' mention' : ''}${line.from === 'bot' ? ' bot' : ''}` },
    avatar(line.from),
    el(
      'div',
      { className: 'body' },
      el('div', { className: 'meta' }, el('strong', { textContent: line.from }), el('time', { textContent: time(line.at) })),
      el('p', { className: 'text', textContent: line.text }),
    ),
  )
}

export function renderMessages(): void {
  const { view, lines } = state
  const list = $('messages')
  const items = lines.get(keyOf(view)) ?? []
  const empty = view.kind === 'room' ? 'No messages yet. Say hi!' : `Start a conversation with ${view.peer}.`
  list.replaceChildren(...(items.length > 0 ? items.map(lineItem) : [el('li', { className: 'msg system', textContent: empty })]))
  list.scrollTop = list.scrollHeight
}

export function renderHead(): void {
  const { view, roomMembers, joined, online, connection } = state
  const input = $<HTMLInputElement>('text')
  const offline = connection === 'reconnecting' ? 'Reconnecting… what you send now goes out once it is back' : undefined
  if (view.kind === 'room') {
    $('title').textContent = `# ${view.name}`
    $('subtitle').textContent = plural(roomMembers.get(view.name) ?? 0, 'member')
    input.placeholder = offline ?? `Message #${view.name} — try "@bot stats"`
    $('leave-room').hidden = !joined.has(view.name)
  } else {
    $('title').textContent = `@ ${view.peer}`
    $('subtitle').textContent = online.has(view.peer) ? 'online' : 'offline'
    input.placeholder = offline ?? `Message ${view.peer}`
    $('leave-room').hidden = true
  }
}

export function renderActivity(): void {
  const who = [...state.typing.keys()]
  $('activity').textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`
}

export function render(): void {
  renderHead()
  renderRooms()
  renderDms()
  renderOnline()
  renderMessages()
  renderActivity()
}

/** Adds a line to a conversation: drawn at once if on screen, else counted as unread. */
export function addLine(key: string, line: Line): void {
  let list = state.lines.get(key)
  if (!list) state.lines.set(key, (list = []))
  list.push(line)
  if (list.length > 500) list.shift()
  if (key === keyOf(state.view)) {
    const box = $('messages')
    if (list.length === 1) box.replaceChildren()
    box.append(lineItem(line))
    box.scrollTop = box.scrollHeight
  } else if (!line.system) {
    state.unread.set(key, (state.unread.get(key) ?? 0) + 1)
    renderRooms()
    renderDms()
  }
}
