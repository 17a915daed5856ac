// `npm start` runs compiled JavaScript (no TS loader in production); build first when dist/ is
// missing or older than any source file.
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'

function newest (dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

const built = existsSync('dist/server.js') ? statSync('dist/server.js').mtimeMs : 0
if (built === 0 || newest('src') > built) {
  console.error('building dist/ (src/ changed)')
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
