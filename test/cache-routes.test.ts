import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './helpers/app.js'
import { testRedis, type Tap, nextEvent } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'
import { startAitoearnSandbox, type AitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

const LIST = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=10'
const LIST_PATH = '/api/v2/channels/works/tiktok'

async function sandbox (t: Tap): Promise<AitoearnSandbox> {
  const s = await startAitoearnSandbox()
  t.teardown(() => s.close())
  return s
}

function app (t: Tap, s: AitoearnSandbox, env: Record<string, string> = {}): Promise<FastifyInstance> {
  return buildApp(t, { AITOEARN_BASE_URL: s.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY, ...env })
}

test('50 concurrent identical requests on a cold key make one upstream call', async t => {
  const s = await sandbox(t)
  const a = await app(t, s)
  const answers = await Promise.all(Array.from({ length: 50 }, () => a.inject({ url: LIST })))
  t.ok(answers.every(r => r.statusCode === 200))
  t.equal(s.count(LIST_PATH), 1)
  t.equal(new Set(answers.map(r => r.body)).size, 1, 'the same bytes for everyone')
  const statuses = answers.map(r => r.headers['cache-status'] as string)
  t.equal(statuses.filter(v => /fwd=miss; stored/.test(v)).length, 1)
  t.equal(statuses.filter(v => /collapsed/.test(v)).length, 49)

  const hit = await a.inject({ url: LIST })
  t.match(hit.headers['cache-status'], /^metrics-bff; hit; ttl=\d+$/)
  t.match(hit.headers['cache-control'], /^private, max-age=\d+, stale-while-revalidate=\d+$/)
  t.ok(Number(hit.headers.age) >= 0)
  t.equal(s.count(LIST_PATH), 1)
})

test('two app instances sharing Redis make one upstream call between them', async t => {
  const s = await sandbox(t)
  const redisEnv = testRedis(t)
  const [a, b] = await Promise.all([app(t, s, redisEnv), app(t, s, redisEnv)])
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).inject({ url: LIST })))
  t.ok(answers.every(r => r.statusCode === 200))
  t.equal(s.count(LIST_PATH), 1, 'one call for 40 requests over two instances')
  t.equal(new Set(answers.map(r => r.headers.etag)).size, 1, 'one ETag')
})

test('ETag and 304 on a matching If-None-Match', async t => {
  const s = await sandbox(t)
  const a = await app(t, s)
  const first = await a.inject({ url: LIST })
  const etag = first.headers.etag as string
  t.match(etag, /^"[A-Za-z0-9_-]+"$/, 'strong ETag')
  const again = await a.inject({ url: LIST, headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal(again.headers.etag, etag)
  const listed = await a.inject({ url: LIST, headers: { 'if-none-match': `"other", W/${etag}` } })
  t.equal(listed.statusCode, 304, 'a list and the weak form match too')
  const other = await a.inject({ url: LIST, headers: { 'if-none-match': '"other"' } })
  t.equal(other.statusCode, 200)
})

test('stale-while-revalidate: answered at once, refreshed once in the background', async t => {
  const s = await sandbox(t)
  const a = await app(t, s, { CACHE_WORKS_TTL_S: '0', CACHE_SWR_S: '600' })
  await a.inject({ url: LIST })
  t.equal(s.count(LIST_PATH), 1)
  const stale = await Promise.all([1, 2, 3].map(() => a.inject({ url: LIST })))
  t.ok(stale.every(r => r.statusCode === 200 && /detail=stale-while-revalidate/.test(r.headers['cache-status'] as string)))
  // The one refresh lands: wait for the sandbox to see it (no fixed sleep).
  while (s.count(LIST_PATH) < 2) await new Promise(resolve => setImmediate(resolve))
  t.equal(s.count(LIST_PATH), 2, 'three stale answers, one refresh')
  t.equal(a.cache.stats.refreshes, 1)
})

test('stale-if-error: stale on a 5xx, never on a 404', async t => {
  const s = await sandbox(t)
  const a = await app(t, s, { CACHE_WORKS_TTL_S: '0', CACHE_SWR_S: '0' })
  const good = await a.inject({ url: LIST })
  t.equal(good.statusCode, 200)

  s.addFault({ kind: 'status', status: 503, path: LIST_PATH })
  const stale = await a.inject({ url: LIST })
  t.equal(stale.statusCode, 200, 'stale data instead of the 5xx')
  t.equal(stale.body, good.body)
  t.match(stale.headers['cache-status'], /fwd=stale; fwd-status=502; .*detail=stale-if-error/)
  t.match(stale.headers['cache-control'], /stale-if-error=\d+/)
  s.faults.clear()

  s.addFault({ kind: 'body', path: LIST_PATH, body: JSON.stringify({ code: 12600, message: 'Account not found', data: {}, timestamp: Date.now() }) })
  const gone = await a.inject({ url: LIST })
  t.equal(gone.statusCode, 404, 'a business "not found" is never hidden behind stale data')
  t.equal(gone.json().code, 'NOT_FOUND')
  t.equal(gone.json().requestId, gone.headers['x-request-id'])
})

test('not found is remembered briefly; the problem carries each request\'s id', async t => {
  const s = await sandbox(t)
  const a = await app(t, s)
  const url = '/v1/works/tiktok?accountId=nobody'
  const first = await a.inject({ url, headers: { 'x-request-id': 'first' } })
  const second = await a.inject({ url, headers: { 'x-request-id': 'second' } })
  t.equal(first.statusCode, 404)
  t.equal(second.statusCode, 404)
  t.equal(second.json().requestId, 'second')
  t.equal(second.json().code, 'NOT_FOUND')
  t.match(second.headers['content-type'], /application\/problem\+json/)
  t.equal(s.count(LIST_PATH), 1)
})

test('Cache-Control: no-cache from the caller revalidates', async t => {
  const s = await sandbox(t)
  const a = await app(t, s)
  await a.inject({ url: LIST })
  const fresh = await a.inject({ url: LIST, headers: { 'cache-control': 'no-cache' } })
  t.match(fresh.headers['cache-status'], /fwd=request; stored/)
  t.equal(s.count(LIST_PATH), 2)
})

test('Redis stopped mid-run: the routes keep answering, and Redis is used again after it restarts', async t => {
  const own = await OwnRedis.start()
  t.teardown(() => own.stop())
  const s = await sandbox(t)
  const a = await app(t, s, { REDIS_URL: own.url, REDIS_KEY_PREFIX: 'bfftest:routes:', CACHE_LOCAL_TTL_MS: '0' })
  const url = (n: number) => `/v1/works/tiktok?accountId=acc-tiktok-1&limit=${n}`
  t.equal((await a.inject({ url: url(1) })).statusCode, 200)

  const closed = nextEvent(a.redis!, 'close')
  await own.stop()
  await closed
  const during = await Promise.all([1, 2, 3, 4, 5].map(n => a.inject({ url: url(n) })))
  t.same(during.map(r => r.statusCode), [200, 200, 200, 200, 200], 'no request fails because Redis is down')
  t.equal(a.cache.redisUp, false)

  const ready = nextEvent(a.redis!, 'ready')
  await own.start()
  await ready
  t.equal((await a.inject({ url: url(6) })).statusCode, 200)
  t.equal(a.cache.redisUp, true, 'the shared tier is back without a restart')
  t.ok(await a.redis!.dbsize() > 0, 'and holds entries')
})
