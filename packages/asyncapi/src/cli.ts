#!/usr/bin/env node
// The `rt` command: `rt asyncapi <contract.ts>` and `rt check-compat <old.ts> <new.ts>`.
import { runCli } from './run-cli.js'

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
})
process.exitCode = code
