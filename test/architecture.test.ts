/**
 * The dependency rule of src/ (docs/architecture.md), checked on every relative import, type-only
 * ones included: a module imports only from its own layer's folder or from layers below it.
 *   app        server.ts, app.ts, telemetry.ts
 *   edge       routes/, plugins/      (neither imports the other: app.ts wires both)
 *   view       merge/
 *   reads      reads/
 *   parts      cache/, upstream/, budgets/ (none imports another; upstream/<name>/ never
 *                                      imports another upstream's folder)
 *   base       schemas/, metrics/, errors.ts, config.ts, secrets.ts, redis-breaker.ts, tracing.ts (one toolbox)
 * src/sandbox/ is not app code: only server.ts may import it, and it may import only the base.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'tap'

const SRC = resolve(import.meta.dirname, '..', 'src')

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/** The folder that names a module's place: `routes`, `upstream/douyin`, `errors.ts`... */
function place (path: string): string {
  const parts = relative(SRC, path).split('/')
  return parts[0] === 'upstream' && parts.length > 2 ? `upstream/${parts[1]}` : parts[0]!
}

const LAYER: Record<string, number> = {
  'server.ts': 0,
  'app.ts': 0,
  'telemetry.ts': 0,
  routes: 1,
  plugins: 1,
  merge: 2,
  reads: 3,
  cache: 4,
  upstream: 4,
  budgets: 4,
  'upstream/aitoearn': 4,
  'upstream/douyin': 4,
  'upstream/limiter': 4,
  schemas: 5,
  metrics: 5,
  'errors.ts': 5,
  'config.ts': 5,
  'secrets.ts': 5,
  'redis-breaker.ts': 5,
  'tracing.ts': 5,
  sandbox: 5
}
const layerOf = (p: string) => LAYER[p] ?? LAYER[p.split('/')[0]!]!
const family = (p: string) => p.split('/')[0]!

/** Why an import from `from` to `to` breaks the rule, or undefined when it keeps it. */
function breach (from: string, to: string): string | undefined {
  if (from === to) return undefined
  if (to === 'sandbox') return from === 'server.ts' ? undefined : 'only server.ts wires the sandboxes'
  if (from === 'sandbox') return layerOf(to) === 5 ? undefined : 'the sandbox models an upstream with the base alone'
  if (layerOf(to) < layerOf(from)) return 'imports a layer above it'
  // The app and the base are one piece each; the layers between keep their folders apart.
  if (layerOf(to) === layerOf(from) && family(from) !== family(to) && layerOf(from) > 0 && layerOf(from) < 5) return 'imports a sibling of its layer'
  if (from.startsWith('upstream/') && to.startsWith('upstream/') && to !== 'upstream/limiter' && from !== to) return 'imports another upstream'
  return undefined
}

test('every import in src/ points down the layers (docs/architecture.md)', async t => {
  const breaches: string[] = []
  let edges = 0
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))
      edges++
      const why = breach(place(file), place(target))
      if (why) breaches.push(`${relative(SRC, file)} -> ${relative(SRC, target)}: ${why}`)
    }
  }
  t.ok(edges > 100, `${edges} imports checked`)
  t.same(breaches, [], 'no import breaks the rule')
})

test('the rule itself refuses what it should', async t => {
  t.ok(breach('cache', 'plugins'), 'cache -> plugins')
  t.ok(breach('upstream/douyin', 'cache'), 'an upstream client -> cache')
  t.ok(breach('reads', 'merge'), 'reads -> merge')
  t.ok(breach('plugins', 'sandbox'), 'app code -> sandbox')
  t.ok(breach('upstream/aitoearn', 'upstream/douyin'), 'one upstream -> another')
  t.ok(breach('routes', 'plugins'), 'routes -> plugins')
  t.notOk(breach('routes', 'reads'))
  t.notOk(breach('reads', 'upstream/limiter'))
  t.notOk(breach('upstream/douyin', 'upstream/limiter'))
  t.notOk(breach('server.ts', 'sandbox'))
})
