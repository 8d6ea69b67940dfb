import { useState } from 'react'
import { ROOMS, USER_NAME, type Room } from '../contract.js'
import { ChatRoom } from './chat-room.js'
import { RtProvider, clientFor, useConnectionState } from './rt.js'

/** The page: a name, then the chat. */
export function App({ initialName }: { initialName: string }) {
  const [name, setName] = useState(USER_NAME.test(initialName) ? initialName : '')
  if (!name) return <Login onName={setName} />
  return (
    <RtProvider client={clientFor(name)}>
      <Chat name={name} />
    </RtProvider>
  )
}

function Login({ onName }: { onName: (name: string) => void }) {
  const [draft, setDraft] = useState('')
  return (
    <main>
      <h1>@rt react chat</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          if (USER_NAME.test(draft)) onName(draft)
        }}
      >
        <input id="name" placeholder="your name" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
        <button>Enter</button>
      </form>
    </main>
  )
}

function Chat({ name }: { name: string }) {
  const [room, setRoom] = useState<Room>('general')
  const [shown, setShown] = useState(true)
  return (
    <main>
      <header>
        <h1>@rt react chat</h1>
        <Connection />
      </header>
      <p>
        Signed in as <b id="me">{name}</b>
      </p>
      <nav>
        {ROOMS.map((r) => (
          <button key={r} data-room={r} aria-pressed={r === room} onClick={() => setRoom(r)}>
            #{r}
          </button>
        ))}
        <button id="toggle" onClick={() => setShown((s) => !s)}>
          {shown ? 'Hide room' : 'Show room'}
        </button>
      </nav>
      {shown && <ChatRoom room={room} />}
    </main>
  )
}

function Connection() {
  const { state, error } = useConnectionState()
  return (
    <span id="conn" data-state={state} title={error?.message ?? ''}>
      {state}
    </span>
  )
}
