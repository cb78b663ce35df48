// Prints the gzipped size of the built JavaScript (dist/assets/*.js) and fails above the budget
// (TARGETS.md: the built JavaScript <= 250 kB gzipped).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const BUDGET = 250 * 1024
const dir = new URL('../dist/assets/', import.meta.url).pathname
let total = 0
for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
  const size = gzipSync(readFileSync(join(dir, name)), { level: 9 }).length
  total += size
  console.log(`  ${name}: ${(size / 1024).toFixed(1)} kB gzipped`)
}
console.log(`JavaScript bundle: ${(total / 1024).toFixed(1)} kB gzipped (budget ${BUDGET / 1024} kB)`)
if (total > BUDGET) {
  console.error('the JavaScript bundle is over its budget')
  process.exit(1)
}
