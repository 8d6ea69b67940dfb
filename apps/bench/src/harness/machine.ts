import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg, release, totalmem } from 'node:os'
import type { Machine } from './results.js'

const require = createRequire(import.meta.url)

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}

export function describeMachine(): Machine {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model.trim() ?? '?',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `Linux ${release()}`,
    node: process.version,
    loadAvg: { start: loadavg()[0]! },
    versions: {
      ws: version('ws'),
      'socket.io': version('socket.io'),
      'uWebSockets.js': version('uWebSockets.js'),
      '@socket.io/redis-adapter': version('@socket.io/redis-adapter'),
      '@rt/server': version('@rt/server'),
    },
  }
}
