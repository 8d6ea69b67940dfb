// `node --import <this file>`: runs TypeScript sources (ours and the @rt packages' via the
// `@rt/source` condition) the way `tsc` would emit them. tsx is not used for the measured
// processes because it compiles with esbuild's `keepNames`, which wraps every function
// expression in `__name(fn, "name")` (an Object.defineProperty per closure created): that
// costs CPU and memory per connection in TypeScript code only, and would tilt the comparison
// against @rt. Here esbuild strips the types and changes nothing else.
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
