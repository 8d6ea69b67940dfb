import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'

const name = new URLSearchParams(location.search).get('name') ?? ''
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App initialName={name} />
  </StrictMode>,
)
