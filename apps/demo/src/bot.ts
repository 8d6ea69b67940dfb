// What the agent says. Pure: the agent process feeds it tasks and cluster stats.

export interface Stats {
  nodes: { id: string; connections: number }[]
  users: number
  connections: number
}

const HELP = 'I answer mentions and DMs. Try: "@bot stats", "@bot time", "@bot roll", or just say hi.'

/** The bot's answer to `text` from `from`; `stats` is fetched only when the answer needs it. */
export async function answer(from: string, text: string, stats: () => Promise<Stats>): Promise<string> {
  const said = text.replace(/(^|\s)@bot\b[:,]?/gi, ' ').trim()
  const word = said.toLowerCase()
  if (/\b(help|commands?)\b/.test(word)) return HELP
  if (/\b(stats|who|nodes?|cluster)\b/.test(word)) {
    const s = await stats()
    const nodes = s.nodes.map((n) => `${n.id} (${n.connections})`).join(', ')
    return `${s.users} online over ${s.connections} connections; ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}: ${nodes}.`
  }
  if (/\btime\b/.test(word)) return `It is ${new Date().toISOString().slice(11, 19)} UTC.`
  if (/\broll\b/.test(word)) return `@${from} rolled a ${1 + Math.floor(Math.random() * 6)}.`
  if (said === '' || /^(hi|hello|hey)\b/.test(word)) return `Hi @${from}! ${HELP}`
  return `@${from} you said "${said}". ${HELP.split('. ')[1]}`
}
