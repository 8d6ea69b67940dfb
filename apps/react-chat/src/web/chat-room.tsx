import { useEffect, useState } from 'react'
import type { Room } from '../contract.js'
import { useCall, useEvent, useRt, useSubscription } from './rt.js'

interface Line {
  from: string
  text: string
  offset: number
}

/** One room: its messages (a history topic), join notices (an event) and the send form (a call). */
export function ChatRoom({ room }: { room: Room }) {
  const rt = useRt()
  const [lines, setLines] = useState<Line[]>([])
  const [notice, setNotice] = useState('')
  const [draft, setDraft] = useState('')
  const join = useCall('joinRoom')
  const send = useCall('send')
  const sub = useSubscription('messages', { room }, {
    onData: (m, at) => setLines((ls) => [...ls, { from: m.from, text: m.text, offset: at.offset }]),
    // After a reconnect the client asks from its position; `recovered: false` means some were lost.
    onSubscribed: (info) => info.wasRecovering && !info.recovered && setNotice('Some messages were missed and could not be recovered'),
  })
  // The latest `room` is read here without listening again.
  useEvent('joined', (j) => j.room === room && setNotice(`${j.user} joined #${room}`))

  useEffect(() => {
    setLines([])
    setNotice('')
    join.call({ room }).catch(() => {})
    return () => void rt.call.leaveRoom({ room }).catch(() => {})
  }, [room, join.call, rt])

  return (
    <section className="room" data-room={room} data-status={sub.status} data-recovered={String(sub.recovered)}>
      <p className="meta">
        #{room} · {sub.status}
        {join.data ? ` · ${join.data.members} here` : ''}
        {sub.position ? ` · at ${sub.position.offset}` : ''}
      </p>
      <ul>
        {lines.map((l) => (
          <li key={l.offset} data-from={l.from}>
            <b>{l.from}</b>
            {l.text}
          </li>
        ))}
      </ul>
      {notice && <p className="notice">{notice}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault()
          if (!draft.trim()) return
          send.call({ room, text: draft.trim() }).then(() => setDraft(''), () => {})
        }}
      >
        <input id="text" placeholder={`message #${room}`} value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button id="send" disabled={send.pending}>
          Send
        </button>
      </form>
      {send.error && <p className="notice">{send.error.message}</p>}
    </section>
  )
}
