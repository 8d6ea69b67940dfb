// Tiny DOM helpers: the page uses no framework.
import { RtError } from '@rt/client'

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T

type Props<K extends keyof HTMLElementTagNameMap> = Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> }

/** Creates an element; text always goes in through `textContent`, never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props<K> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props
  const e = Object.assign(document.createElement(tag), rest)
  if (dataset) Object.assign(e.dataset, dataset)
  e.append(...kids)
  return e
}

const hue = (name: string) => [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7)

/** A round initial in a colour of the name's own. */
export function avatar(name: string): HTMLElement {
  const a = el('span', { className: 'avatar', textContent: name.slice(0, 1).toUpperCase(), title: name })
  a.style.setProperty('--h', String(hue(name)))
  return a
}

export const time = (at: number) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })

export const explain = (e: unknown) => (e instanceof RtError ? e.message : String(e))

/** A short message under the composer, e.g. an error the server sent. */
export function notice(text: string): void {
  const n = $('notice')
  n.textContent = text
  if (text) setTimeout(() => n.textContent === text && notice(''), 4_000)
}
