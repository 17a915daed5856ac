import { createHash } from 'node:crypto'
import { test } from 'tap'
import { buildApp } from './helpers/app.js'
import { testRedis } from './helpers/redis.js'
import { stackApp, startSandboxes } from './helpers/stack.js'
import { loadConfig } from '../src/config.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const DASH_KEY = 'dash-0123456789abcdef'
const SVC_KEY = 'svc-fedcba9876543210'
const KEYS = `dashboard:${DASH_KEY},billing:${createHash('sha256').update(SVC_KEY).digest('hex')}`
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

test('config: production needs keys unless BFF_AUTH=none; bad entries name the variable, never the key', async t => {
  const prod = { NODE_ENV: 'production', AITOEARN_API_KEY: 'k', DOUYIN_ACCESS_TOKEN: 't' }
  t.throws(() => loadConfig(prod), /NODE_ENV=production requires BFF_API_KEYS/)
  t.equal(loadConfig({ ...prod, BFF_AUTH: 'none' }).auth.keys.length, 0, 'open on purpose')
  t.equal(loadConfig({ ...prod, BFF_API_KEYS: KEYS }).auth.keys.length, 2)
  t.throws(() => loadConfig({ BFF_AUTH: 'keys' }), /BFF_AUTH=keys requires BFF_API_KEYS/)
  t.throws(() => loadConfig({ BFF_AUTH: 'none', BFF_API_KEYS: KEYS }), /contradict/)
  const short = (() => { try { loadConfig({ BFF_API_KEYS: 'x:short-secret' }); return '' } catch (e) { return (e as Error).message } })()
  t.match(short, /BFF_API_KEYS key of "x" must be at least 16/)
  t.notMatch(short, /short-secret/, 'the key is not echoed')
  t.throws(() => loadConfig({ BFF_API_KEYS: 'a:0123456789abcdefg,a:0123456789abcdefh' }), /names "a" twice/)
  t.throws(() => loadConfig({ CORS_ORIGINS: 'https://ok.example, https://x.example/path' }), /CORS_ORIGINS entry/)
})

test('callers authenticate with Bearer or X-Api-Key (raw or sha256 entries); open paths stay open', async t => {
  const app = await buildApp(t, { BFF_API_KEYS: KEYS })
  const missing = await app.inject({ url: '/v1/platforms' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(missing.json().code, 'UNAUTHORIZED')
  t.match(missing.headers['www-authenticate'], /^Bearer/)
  t.equal((await app.inject({ url: '/v1/platforms', headers: { 'x-api-key': 'dash-0123456789abcdeX' } })).json().code, 'UNAUTHORIZED', 'a wrong key')
  t.equal((await app.inject({ url: '/v1/platforms', headers: { authorization: `Basic ${DASH_KEY}` } })).statusCode, 401, 'not a Bearer')
  t.equal((await app.inject({ url: '/v1/nope', headers: {} })).statusCode, 401, 'unknown routes do not tell they are unknown')
  // Authenticated: the route runs (its upstream is unreachable here: 5xx, not 401).
  for (const headers of [bearer(DASH_KEY), { 'x-api-key': DASH_KEY }, bearer(SVC_KEY), { authorization: `bearer ${SVC_KEY}` }]) {
    const res = await app.inject({ url: '/v1/works/douyin?accountId=a', headers })
    t.not(res.statusCode, 401, `accepted: ${Object.keys(headers)[0]}`)
  }
  for (const url of ['/healthz', '/readyz', '/docs/json', '/', '/assets/api.js']) {
    t.not((await app.inject({ url })).statusCode, 401, `${url} is open`)
  }
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401, '/metrics needs a key')
  const metrics = await app.inject({ url: '/metrics', headers: bearer(SVC_KEY) })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /bff_http_requests_by_caller_total\{caller="billing"\} \d+/, 'the key name reaches metrics')
  t.match(metrics.body, /bff_auth_refused_total\{reason="missing"\} [1-9]/)
  t.match(metrics.body, /bff_auth_refused_total\{reason="invalid"\} [1-9]/)

  const openMetrics = await buildApp(t, { BFF_API_KEYS: KEYS, METRICS_REQUIRE_KEY: 'false' })
  t.equal((await openMetrics.inject({ url: '/metrics' })).statusCode, 200, 'METRICS_REQUIRE_KEY=false')
  const closed = await buildApp(t, { BFF_API_KEYS: KEYS, AUTH_OPEN_PATHS: '/healthz' })
  t.equal((await closed.inject({ url: '/docs/json' })).statusCode, 401, 'AUTH_OPEN_PATHS is configurable')
  t.equal((await closed.inject({ url: '/healthz' })).statusCode, 200)
})

test('without keys the service is open (outside production)', async t => {
  const app = await buildApp(t)
  t.not((await app.inject({ url: '/v1/works/douyin?accountId=a' })).statusCode, 401)
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 200)
})

test('CORS: only allowlisted origins, exposing what the dashboard reads; preflights need no key', async t => {
  const app = await buildApp(t, { BFF_API_KEYS: KEYS, CORS_ORIGINS: 'https://dash.example.com' })
  const pre = await app.inject({ method: 'OPTIONS', url: '/v1/platforms', headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
  t.equal(pre.statusCode, 204, 'preflight answered without a key')
  t.equal(pre.headers['access-control-allow-origin'], 'https://dash.example.com')
  t.match(pre.headers['access-control-allow-headers'], /Authorization/)
  const res = await app.inject({ url: '/healthz', headers: { origin: 'https://dash.example.com' } })
  for (const h of ['ETag', 'Cache-Status', 'x-request-id', 'x-sources-complete', 'RateLimit-Remaining']) t.match(res.headers['access-control-expose-headers'], h)
  t.equal((await app.inject({ url: '/v1/platforms', headers: { origin: 'https://dash.example.com' } })).headers['access-control-allow-origin'], 'https://dash.example.com', 'a 401 is readable by the page')
  t.equal((await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } })).headers['access-control-allow-origin'], undefined, 'other origins get nothing')
  const none = await buildApp(t)
  t.equal((await none.inject({ url: '/healthz', headers: { origin: 'https://dash.example.com' } })).headers['access-control-allow-origin'], undefined, 'none by default')
})

test('rate limits per key name, shared through Redis, with RateLimit-* headers and a 429 problem', async t => {
  const s = await startSandboxes(t)
  const env = { BFF_API_KEYS: KEYS, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_S: '86400', ...testRedis(t) }
  const a = await stackApp(t, s, env)
  const b = await stackApp(t, s, env)
  const codes: number[] = []
  for (const app of [a, b, a]) codes.push((await app.inject({ url: '/v1/platforms', headers: bearer(DASH_KEY) })).statusCode)
  t.same(codes, [200, 200, 200])
  const limited = await b.inject({ url: '/v1/platforms', headers: bearer(DASH_KEY) })
  t.equal(limited.statusCode, 429, 'the fourth, on the other instance: the budget is shared')
  t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(limited.json().code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After')
  t.equal(limited.headers['ratelimit-limit'], '3')
  t.equal(limited.headers['ratelimit-remaining'], '0')
  t.equal((await a.inject({ url: '/v1/platforms', headers: bearer(SVC_KEY) })).statusCode, 200, 'another key has its own budget')
  t.equal((await a.inject({ url: '/healthz' })).statusCode, 200, 'health is never limited')
  t.match((await a.inject({ url: '/metrics', headers: bearer(SVC_KEY) })).body, /bff_rate_limited_total\{budget="caller"\} 0/)
  t.match((await b.inject({ url: '/metrics', headers: bearer(SVC_KEY) })).body, /bff_rate_limited_total\{budget="caller"\} 1/)
})

test('the stricter Douyin budget counts only queries that miss the cache', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { BFF_API_KEYS: KEYS, RATE_LIMIT_DOUYIN_UNCACHED_MAX: '2', RATE_LIMIT_WINDOW_S: '86400' })
  const day = (n: number) => `/v1/douyin/task-videos/daily?billingDate=${addDays(beijingToday(), -n)}`
  t.equal((await app.inject({ url: day(1), headers: bearer(DASH_KEY) })).statusCode, 200)
  t.equal((await app.inject({ url: day(2), headers: bearer(DASH_KEY) })).statusCode, 200)
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: day(1), headers: bearer(DASH_KEY) })).statusCode, 200, 'cached: free')
  const third = await app.inject({ url: day(3), headers: bearer(DASH_KEY) })
  t.equal(third.statusCode, 429, 'a third uncached query is refused')
  t.equal(third.json().code, 'RATE_LIMITED')
  t.match(third.json().detail, /uncached Douyin/)
  t.ok(Number(third.headers['retry-after']) >= 1)
  t.equal((await app.inject({ url: day(3), headers: bearer(SVC_KEY) })).statusCode, 200, 'another caller still may')
  t.match((await app.inject({ url: '/metrics', headers: bearer(SVC_KEY) })).body, /bff_rate_limited_total\{budget="douyinUncached"\} 1/)
})
