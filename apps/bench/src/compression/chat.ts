import * as z from 'zod'
import { defineContract } from '@rt/contract'

/** A chat room's one event. */
export const chatContract = defineContract({
  shared: {
    serverToClient: { message: { payload: z.object({ room: z.string(), from: z.string(), text: z.string(), at: z.number() }) } },
    clientToServer: {},
  },
  roles: { user: {} },
})

// Common words: text that reads like chat, and that deflate does not shrink by repetition alone.
const NOUNS = 'time people year way day thing man world life hand part child eye woman place work week case point number group problem fact friend morning train coffee lunch meeting office station bakery ticket film book sister brother weekend party plan idea garden kitchen weather rain bus street city park dog cat phone email photo slides notes report project deadline manager team client price shop market dinner breakfast holiday flight hotel beach river mountain game match score song concert band teacher school class exam homework doctor appointment car bike road traffic queue cheese bread soup pizza noodles cake birthday present card letter message news story joke question answer reason minute hour evening night tomorrow yesterday today soon later early late again still already maybe really quite very just almost never always often sometimes usually probably definitely'.split(' ')
const VERBS = 'is was have had make made go went see saw know knew take took come came think thought look looked want wanted give gave use used find found tell told ask asked feel felt try tried leave left call called bring brought meet met send sent book booked miss missed'.split(' ')
const ADJECTIVES = 'good new first last long great little own other old right big high different small large next early young important few public bad same able lovely awful cold warm busy quiet funny strange nice'.split(' ')
const SMALL = 'the a my your our this that some no every'.split(' ')
const NAMES = ['ann', 'bob', 'carla', 'dev', 'eun-ji', 'femi', 'gus']

/** A seeded generator (Park–Miller): the same messages every run. */
function pick(seed: number) {
  let x = (seed % 2_147_483_646) + 1
  return <T>(xs: T[]): T => xs[(x = (x * 16_807) % 2_147_483_647) % xs.length]!
}

/** The `seq`th chat message: about 200 characters of text, different each time. */
export function chatMessage(seq: number) {
  const one = pick(seq * 7_919 + 13)
  let text = ''
  while (text.length < 190) {
    const s = `${one(SMALL)} ${one(ADJECTIVES)} ${one(NOUNS)} ${one(VERBS)} ${one(SMALL)} ${one(NOUNS)} ${one(['', 'again', 'today', 'at the ' + one(NOUNS)])}`
    text += (text ? ' ' : '') + s.trim().replace(/^./, (c) => c.toUpperCase()) + one(['.', '?', '!', '.'])
  }
  return { room: 'room:42', from: NAMES[seq % NAMES.length]!, text, at: 1_764_590_000_000 + seq * 1_337 }
}
