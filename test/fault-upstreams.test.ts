import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Fault } from '../src/sandbox/faults.js'
import { apiRoutes, documentedAnswers, routeRequests, stackApp, startSandboxes, type Sandboxes } from './helpers/stack.js'
import type { Tap } from './helpers/redis.js'

/**
 * Every fault the sandboxes can produce, on every upstream request (token calls included), on
 * every API route: the documented problem (or, for the merged view, a documented partial
 * answer), stale data where the cache has it, no unhandled rejection, and a healthy process.
 * Short timeouts keep it quick; nothing here measures time.
 */
const FAULTS: Array<{ fault: Fault, status: number, code: string }> = [
  { fault: { kind: 'latency', ms: 1500 }, status: 504, code: 'UPSTREAM_TIMEOUT' },
  { fault: { kind: 'status', status: 503 }, status: 502, code: 'UPSTREAM_ERROR' },
  { fault: { kind: 'status', status: 500 }, status: 502, code: 'UPSTREAM_ERROR' },
  { fault: { kind: 'html', status: 502 }, status: 502, code: 'UPSTREAM_ERROR' },
  { fault: { kind: 'truncated' }, status: 502, code: 'UPSTREAM_BAD_RESPONSE' },
  { fault: { kind: 'hang' }, status: 504, code: 'UPSTREAM_TIMEOUT' },
  { fault: { kind: 'reset' }, status: 503, code: 'UPSTREAM_UNAVAILABLE' },
  { fault: { kind: 'slowBody', ms: 5000 }, status: 504, code: 'UPSTREAM_TIMEOUT' }
]
const MERGED = '/v1/works/:platform/:workId/metrics'

const unhandled: unknown[] = []
process.on('unhandledRejection', err => { unhandled.push(err) })

function faultApp (t: Tap, s: Sandboxes): Promise<FastifyInstance> {
  // TTL 0 and no SWR: every request goes upstream, and a cached answer is stale at once, which
  // stale-if-error may serve while the upstream fails.
  return stackApp(t, s, {
    UPSTREAM_TIMEOUT_MS: '150',
    REQUEST_DEADLINE_MS: '700',
    // Longer than the sources' deadline, so a failed source is known (and its stale data used) before it.
    MERGED_VIEW_DEADLINE_MS: '1500',
    CACHE_PLATFORMS_TTL_S: '0',
    CACHE_WORKS_TTL_S: '0',
    CACHE_ANALYTICS_TTL_S: '0',
    CACHE_DOUYIN_SETTLED_TTL_S: '0',
    CACHE_DOUYIN_RECENT_TTL_S: '0',
    CACHE_SWR_S: '0',
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0'
  })
}

function setFault (s: Sandboxes, fault: Fault | undefined): void {
  for (const sandbox of [s.ai, s.dy]) {
    sandbox.faults.clear()
    sandbox.faults.releaseHeld()
    if (fault) sandbox.addFault(fault)
  }
}

test('the route table covers every API route', async t => {
  const s = await startSandboxes(t)
  const app = await faultApp(t, s)
  t.same(apiRoutes(app).sort(), routeRequests().map(r => r.route).sort(), 'a new route needs a line in test/helpers/stack.ts')
})

let tried = 0
for (const { fault, status, code } of FAULTS) {
  test(`fault ${fault.kind}${fault.status ? ` ${fault.status}` : ''}: documented problems, then stale data, then recovery`, async t => {
    const s = await startSandboxes(t)
    const app = await faultApp(t, s)
    const routes = routeRequests()

    setFault(s, fault)
    const cold = await Promise.all(routes.map(r => app.inject({ url: r.url })))
    for (const [i, res] of cold.entries()) {
      tried++
      const { route } = routes[i]!
      const documented = documentedAnswers(app, route)
      t.ok(documented.has(res.statusCode), `${route}: ${res.statusCode} is a documented answer`)
      if (route === MERGED && res.statusCode === 200) {
        t.equal(res.headers['x-sources-complete'], 'false', `${route}: a partial view says so`)
        continue
      }
      t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${route}: problem+json`)
      const body = res.json()
      if (route === MERGED) {
        t.ok(documented.get(res.statusCode)!.includes(body.code), `${route}: ${body.code} documented for ${res.statusCode}`)
      } else if (status !== 504 && res.statusCode === 504) {
        // Retried failures may run out of the request's deadline first (a slow machine): then
        // the deadline's own answer, and only that one.
        t.equal(body.code, 'UPSTREAM_TIMEOUT', `${route}: ${code}, or the deadline passed while retrying`)
      } else {
        t.equal(res.statusCode, status, `${route}: ${status}`)
        t.equal(body.code, code, `${route}: ${code}`)
      }
    }

    setFault(s, undefined)
    const primed = await Promise.all(routes.map(r => app.inject({ url: r.url })))
    for (const [i, res] of primed.entries()) t.equal(res.statusCode, 200, `${routes[i]!.route}: answers once the fault is gone`)

    setFault(s, fault)
    const stale = await Promise.all(routes.map(r => app.inject({ url: r.url })))
    for (const [i, res] of stale.entries()) {
      const { route } = routes[i]!
      t.equal(res.statusCode, 200, `${route}: the cached answer stands in for the failing upstream${res.statusCode === 200 ? '' : ` (${res.body.slice(0, 300)})`}`)
      if (route === MERGED) continue
      t.equal(res.body, primed[i]!.body, `${route}: the data cached before the fault`)
      // The Douyin route caches each upstream query as well: the stale queries make a new answer.
      if (route !== '/v1/douyin/task-videos/daily') t.match(res.headers['cache-status'], /stale-if-error/, `${route}: marked stale-if-error`)
    }

    setFault(s, undefined)
    t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'still healthy')
    t.equal((await app.inject({ url: routes[0]!.url, headers: { 'cache-control': 'no-cache' } })).statusCode, 200, 'and serving fresh data')
  })
}

test('no unhandled rejection in the whole run', async t => {
  t.same(unhandled, [])
  t.ok(tried >= FAULTS.length * 5, `${tried} route x fault combinations tried`)
  t.comment(`faults tried: ${FAULTS.length} kinds x ${routeRequests().length} routes = ${tried}`)
})
