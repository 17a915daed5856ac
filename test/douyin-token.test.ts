import { test } from 'tap'
import { Redis } from 'ioredis'
import { buildApp } from './helpers/app.js'
import { testRedis } from './helpers/redis.js'
import { startDouyinSandbox, DAILY_DATA_PATH, STABLE_TOKEN_PATH, type DouyinSandbox } from '../src/sandbox/douyin/server.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET } from '../src/sandbox/seed.js'

type Tap = { teardown: (fn: () => unknown) => void }
// Each request asks for a page size of its own: distinct cache keys, so each one calls Douyin.
let n = 0
const fresh = () => `/v1/douyin/task-videos/daily?pageSize=${100 + n++}`

async function sandbox (t: Tap): Promise<DouyinSandbox> {
  const s = await startDouyinSandbox()
  t.teardown(() => s.close())
  return s
}

const creds = (s: DouyinSandbox) => ({
  DOUYIN_BASE_URL: s.url,
  DOUYIN_SOURCE: 'daily',
  DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
  DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET
})

test('a token is fetched once and reused, never per request', async t => {
  const s = await sandbox(t)
  const app = await buildApp(t, creds(s))
  const answers = await Promise.all(Array.from({ length: 5 }, () => app.inject({ method: 'GET', url: fresh() })))
  t.same(answers.map(a => a.statusCode), [200, 200, 200, 200, 200])
  await app.inject({ method: 'GET', url: fresh() })
  t.equal(s.stats().tokenCalls, 1)
  t.ok(s.requests.filter(r => r.url === STABLE_TOKEN_PATH).length === 1, 'the stable endpoint is the one used')
})

test('an expired token is refreshed once and the request succeeds', async t => {
  const s = await sandbox(t)
  const app = await buildApp(t, creds(s))
  t.equal((await app.inject({ method: 'GET', url: fresh() })).statusCode, 200)
  s.expireTokens()
  const before = s.count(DAILY_DATA_PATH)
  const answers = await Promise.all(Array.from({ length: 3 }, () => app.inject({ method: 'GET', url: fresh() })))
  t.same(answers.map(a => a.statusCode), [200, 200, 200])
  t.equal(s.stats().tokenCalls, 2, 'one refresh for all three requests')
  t.equal(s.stats().tokensIssued, 2)
  const expired = s.stats().errNo['28001008'] ?? 0
  t.ok(expired >= 1 && expired <= 3, 'the expiry was seen, at most once per request')
  t.equal(s.count(DAILY_DATA_PATH) - before, 3 + expired, 'a request that saw it retried once')
})

test('two app instances sharing Redis fetch the token once, not twice; and refresh once', async t => {
  const s = await sandbox(t)
  const redisEnv = testRedis(t)
  const a = await buildApp(t, { ...creds(s), ...redisEnv })
  const b = await buildApp(t, { ...creds(s), ...redisEnv })
  const first = await Promise.all([a, b, a, b].map(app => app.inject({ method: 'GET', url: fresh() })))
  t.same(first.map(r => r.statusCode), [200, 200, 200, 200])
  t.equal(s.stats().tokenCalls, 1, 'one token call for both instances')

  // The shared record is in Redis under the test's prefix, and it never leaks the secret.
  const redis = new Redis(redisEnv.REDIS_URL, { keyPrefix: redisEnv.REDIS_KEY_PREFIX, lazyConnect: true })
  t.teardown(() => redis.disconnect())
  await redis.connect()
  const keys = await redis.keys(`${redisEnv.REDIS_KEY_PREFIX}douyin:token:*`)
  t.equal(keys.length, 1, 'one shared token record')
  const stored = await redis.get(keys[0]!.slice(redisEnv.REDIS_KEY_PREFIX.length))
  t.notMatch(stored, SANDBOX_DOUYIN_CLIENT_SECRET)

  s.expireTokens()
  const second = await Promise.all([a, b, a, b].map(app => app.inject({ method: 'GET', url: fresh() })))
  t.same(second.map(r => r.statusCode), [200, 200, 200, 200])
  t.equal(s.stats().tokenCalls, 2, 'the expired token is refreshed once across instances')
})

test('Redis down: the token works in-process and requests still succeed on a share the operator names', async t => {
  const s = await sandbox(t)
  // DOUYIN_QPS_FALLBACK: an instance that never reached Redis does not know its fleet, so only a share named for it is safe.
  const app = await buildApp(t, { ...creds(s), REDIS_URL: 'redis://127.0.0.1:1', DOUYIN_QPS_FALLBACK: '2' })
  const res = await app.inject({ method: 'GET', url: fresh() })
  t.equal(res.statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: fresh() })).statusCode, 200)
  t.equal(s.stats().tokenCalls, 1)
})

test('Redis never reached and no share named: Douyin is not called, the answer says why', async t => {
  const s = await sandbox(t)
  const app = await buildApp(t, { ...creds(s), REDIS_URL: 'redis://127.0.0.1:1' })
  const res = await app.inject({ method: 'GET', url: fresh() })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'UPSTREAM_RATE_LIMITED')
  t.match(res.json().detail, /shared in Redis, which this instance has not reached yet/)
  t.equal(s.stats().dataRequests, 0, 'nothing reached Douyin')
})

test('DOUYIN_ACCESS_TOKEN is used as is; when refused it is a 502 UPSTREAM_AUTH, no refresh', async t => {
  const s = await sandbox(t)
  const got = await fetch(s.url + STABLE_TOKEN_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_key: SANDBOX_DOUYIN_CLIENT_KEY, client_secret: SANDBOX_DOUYIN_CLIENT_SECRET, grant_type: 'client_credential' })
  })
  const token = ((await got.json()) as { data: { access_token: string } }).data.access_token
  const app = await buildApp(t, { DOUYIN_BASE_URL: s.url, DOUYIN_SOURCE: 'daily', DOUYIN_ACCESS_TOKEN: token })
  t.equal((await app.inject({ method: 'GET', url: fresh() })).statusCode, 200)
  t.equal(s.requests.at(-1)!.headers['access-token'], token)
  s.expireTokens()
  const res = await app.inject({ method: 'GET', url: fresh() })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'UPSTREAM_AUTH')
  t.equal(res.json().upstream.code, 28001008)
  t.notMatch(res.body, token, 'the token is not in the problem')
  t.equal(s.stats().tokenCalls, 1, 'only our own call above')
})

test('wrong credentials: 502 UPSTREAM_AUTH with the upstream code, and no secret in it', async t => {
  const s = await sandbox(t)
  const secret = 'super-secret-value-123'
  const app = await buildApp(t, { DOUYIN_BASE_URL: s.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY, DOUYIN_CLIENT_SECRET: secret })
  const res = await app.inject({ method: 'GET', url: fresh() })
  t.equal(res.statusCode, 502)
  const body = res.json()
  t.equal(body.code, 'UPSTREAM_AUTH')
  t.equal(body.upstream.code, 10013)
  t.notMatch(res.body, secret)
  t.equal(s.count(DAILY_DATA_PATH), 0, 'no data call without a token')
})
