// `pnpm bench` / `pnpm bench:quick`: runs the harness, writes results/*.json, a markdown table
// and a PNG chart, and refreshes the generated part of docs/benchmarks.md (full runs).
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { ContenderId } from './harness/contenders.js'
import { benchDir, killAll } from './harness/proc.js'
import { runBench } from './harness/run-bench.js'
import { SIZES, type Sizes } from './harness/sizes.js'
import { writeReport } from './report/write-report.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    contenders: { type: 'string' },
    'no-cluster': { type: 'boolean', default: false },
    'cluster-only': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
  },
})

const sizes: Sizes = SIZES[values.smoke ? 'smoke' : values.quick ? 'quick' : 'full']
const resultsDir = join(benchDir, 'results')
const profileDir = join(resultsDir, 'profiles')
mkdirSync(resultsDir, { recursive: true })
if (values.profile || values['cpu-prof']) {
  mkdirSync(profileDir, { recursive: true })
  // Profiles of an earlier run of this mode would be reported as this run's.
  for (const f of readdirSync(profileDir)) if (f.startsWith(`${sizes.mode}-`)) rmSync(join(profileDir, f))
}

const stop = (signal: string) => {
  process.stderr.write(`\n${signal}: stopping every process\n`)
  void killAll().finally(() => process.exit(130))
}
process.once('SIGINT', () => stop('SIGINT'))
process.once('SIGTERM', () => stop('SIGTERM'))

const command = `pnpm bench${sizes.mode === 'quick' ? ':quick' : ''}${process.argv.slice(2).filter((a) => a !== '--quick').map((a) => ` ${a}`).join('')}`
const results = await runBench({
  sizes,
  command,
  ...(values.contenders && { contenders: values.contenders.split(',') as ContenderId[] }),
  noCluster: values['no-cluster'],
  clusterOnly: values['cluster-only'],
  ...(values.profile && { profileDir }),
  ...(values['cpu-prof'] && { serverExecArgv: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
  log: (line) => process.stdout.write(`${line}\n`),
})
// Only a standard run (every contender, nothing profiled) is `bench-<mode>`; others get a suffix.
const suffix = values.profile || values['cpu-prof'] ? '-profile' : values['cluster-only'] ? '-cluster' : values.contenders ? '-partial' : ''
const standard = suffix === '' && !values['no-cluster']
const files = await writeReport(results, {
  resultsDir,
  name: `bench-${sizes.mode}${suffix}`,
  profileDir: values.profile ? profileDir : undefined,
  docs: sizes.mode === 'full' && standard && !values['no-docs'],
})
process.stdout.write(`\n${files.markdown}\n\nwrote ${files.written.join(', ')}\n`)
const failed = results.contenders.some((c) => c.errors.length > 0) || results.cluster.some((c) => c.errors.length > 0)
process.exit(failed ? 1 : 0)
