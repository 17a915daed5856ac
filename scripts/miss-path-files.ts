/**
 * What one cache miss goes through, two ways, for the analytics route and the merged view:
 * - the path: the files on the (async) stack of the first upstream HTTP call, in call order, as
 *   a newcomer follows it from the route to the wire (`a > b > a` is a bounce back);
 * - the files: every file under src/ with a function that ran during the request (V8 precise
 *   coverage around exactly one miss, after a warm-up; hooks and sending included).
 * Sandboxes are left out.
 *   npx tsx scripts/miss-path-files.ts
 */
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'
import { relative } from 'node:path'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import app, { serverOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { Cache } from '../src/cache/cache.js'
import { UpstreamHttp } from '../src/upstream/http.js'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { startDouyinSandbox } from '../src/sandbox/douyin/server.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday } from '../src/sandbox/seed.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const [ai, dy] = await Promise.all([startAitoearnSandbox(), startDouyinSandbox()])
const config = loadConfig({
  NODE_ENV: 'test',
  SANDBOX: 'false',
  LOG_LEVEL: 'silent',
  AITOEARN_BASE_URL: ai.url,
  AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY,
  DOUYIN_BASE_URL: dy.url,
  DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
  DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET
})
const server = Fastify({ ...serverOptions(config), logger: false })
await server.register(fp(app), { config })
await server.ready()

const video = DOUYIN_VIDEOS[0]!.videoId
const day = (n: number) => new Date(Date.parse(`${beijingToday()}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10)
// Warm-up: one request of each kind on other keys, so module loading and first-call set-up
// (schema compilation, token) are not counted as the miss path.
const listed = JSON.parse((await server.inject('/v1/works/tiktok?accountId=acc-tiktok-1&limit=2')).body) as { items: Array<{ workId: string }> }
await server.inject(`/v1/works/tiktok/${listed.items[0]!.workId}/analytics?accountId=acc-tiktok-1`)
await server.inject(`/v1/works/douyin/${video}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${day(9)}&until=${day(8)}`)

// The path from the route to the wire: the stack where the request enters the cache (synchronous,
// from the route), then the stack of its first upstream call (asynchronous, from the cache's fill).
Error.stackTraceLimit = 200
let into: string | undefined
let out: string | undefined
const cached = Cache.prototype.cached
Cache.prototype.cached = function (this: Cache, ...args: Parameters<Cache['cached']>) {
  into ??= new Error('into the cache').stack
  return cached.apply(this, args)
}
const request = UpstreamHttp.prototype.request
UpstreamHttp.prototype.request = function (this: UpstreamHttp, req) {
  if (!req.path.includes('token')) out ??= new Error('out to the upstream').stack
  return request.call(this, req)
}
function pathOf (...traces: Array<string | undefined>): string[] {
  const path: string[] = []
  for (const trace of traces) {
    for (const line of (trace ?? '').split('\n').slice(1).reverse()) {
      const file = /\(([^()]+?):\d+:\d+\)$|at (?:async )?([^\s()]+?):\d+:\d+$/.exec(line.trim())
      const at = file?.[1] ?? file?.[2]
      if (at === undefined) continue
      const name = relative(root, at.startsWith('file://') ? fileURLToPath(at) : at)
      if (name.startsWith('src/') && !name.startsWith('src/sandbox/') && path.at(-1) !== name) path.push(name)
    }
  }
  return path
}

const session = new Session()
session.connect()
await session.post('Profiler.enable')

async function filesOf (url: string): Promise<{ files: string[], path: string[] }> {
  into = out = undefined
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false })
  const res = await server.inject(url)
  const { result } = await session.post('Profiler.takePreciseCoverage')
  await session.post('Profiler.stopPreciseCoverage')
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`)
  const files = new Set<string>()
  for (const script of result) {
    if (!script.url.startsWith('file://')) continue
    const path = relative(root, fileURLToPath(script.url))
    if (!path.startsWith('src/') || path.startsWith('src/sandbox/')) continue
    // The first function is the module's own top level, which ran at load time: count the others.
    if (script.functions.slice(1).some(f => f.ranges[0]!.count > 0)) files.add(path)
  }
  return { files: [...files].sort(), path: pathOf(into, out) }
}

const tiktokWork = listed.items[1]!.workId
const analytics = await filesOf(`/v1/works/tiktok/${tiktokWork}/analytics?accountId=acc-tiktok-1`)
const merged = await filesOf(`/v1/works/douyin/${video}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${day(3)}&until=${day(1)}`)
for (const [name, r] of [['analytics miss', analytics], ['merged view miss', merged]] as const) {
  const bounces = r.path.filter((p, i) => r.path.indexOf(p) < i).length
  console.log(`${name}: path of ${r.path.length} steps through ${new Set(r.path).size} files, ${bounces} back into a file already passed\n  ${r.path.join('\n  > ')}`)
  console.log(`${name}: ${r.files.length} files ran code\n  ${r.files.join('\n  ')}`)
}
await server.close()
await Promise.all([ai.close(), dy.close()])
