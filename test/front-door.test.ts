import { createServer, get as httpGet, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'
import { test } from 'tap'
import pino from 'pino'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { buildApp } from './helpers/app.js'
import { testRedis, connectedRedis, type Tap } from './helpers/redis.js'
import { startAitoearnSandbox, type AitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'
import { Cache } from '../src/cache/cache.js'
import { MemoryStore } from '../src/cache/memory-store.js'
import { makeEntry } from '../src/cache/entry.js'
import { FrontDoor, type FrontDoorWiring } from '../src/cache/front-door.js'

const LIST = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=10'
const LIST_PATH = '/api/v2/channels/works/tiktok'
/** Headers of the connection, not of the answer. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding'])

async function sandbox (t: Tap): Promise<AitoearnSandbox> {
  const s = await startAitoearnSandbox()
  t.teardown(() => s.close())
  return s
}

/** The app on a real port, rate limits off (the front door's condition unless said otherwise). */
async function listening (t: Tap, s: AitoearnSandbox, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const app = await buildApp(t, { AITOEARN_BASE_URL: s.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY, RATE_LIMIT_MAX: '0', ...env })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}

async function get (url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number, headers: Record<string, string>, body: string }> {
  const res = await fetch(url, { headers, method })
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
}

/** Request counter of one route and status, from /metrics. */
async function counted (url: string, route: string, status = 200): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`bff_http_requests_total{route="${route}",method="GET",status="${status}"}`))
  return Number(line?.split(' ').pop() ?? 0)
}

test('a repeated URL is answered by the front door with the bytes and headers of the full path', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s)
  t.ok(app.frontDoor, 'on: rate limits are off')
  const door = app.frontDoor!

  const first = await get(url + LIST)
  t.equal(first.status, 200)
  t.match(first.headers['cache-status'], /fwd=miss; stored/)
  t.equal(door.served, 0, 'a miss goes through the router')

  // The full path's answer to the same hit, for comparison (inject never meets the front door).
  const full = await app.inject({ url: LIST })
  t.match(full.headers['cache-status'], /^metrics-bff; hit; ttl=\d+$/)
  const before = await counted(url, '/v1/works/:platform')

  const fast = await get(url + LIST)
  t.equal(door.served, 1, 'the hit was answered by the front door')
  t.equal(fast.status, 200)
  t.equal(fast.body, full.body, 'the same bytes')
  const names = (h: Record<string, unknown>) => Object.keys(h).filter(n => !TRANSPORT.has(n)).sort()
  t.same(names(fast.headers), names(full.headers), 'the same headers')
  for (const name of names(full.headers)) {
    if (name === 'x-request-id' || name === 'age') continue
    t.equal(fast.headers[name], String(full.headers[name]), `${name} as the full path sends it`)
  }
  t.match(fast.headers['x-request-id'], /^[0-9a-f]{12}-[0-9a-z]+$/, 'a request id of its own')
  t.not(fast.headers['x-request-id'], full.headers['x-request-id'])
  t.equal(s.count(LIST_PATH), 1, 'one upstream call in all')
  t.equal(await counted(url, '/v1/works/:platform'), before + 1, 'counted in the request metrics under its route')
  t.match(await (await fetch(`${url}/metrics`)).text(), /^bff_cache_front_door_answers_total 1$/m, 'and as a front door answer')

  const named = await get(url + LIST, { 'x-request-id': 'caller-chosen-1' })
  t.equal(named.headers['x-request-id'], 'caller-chosen-1', "the caller's request id is kept")
  t.equal(door.served, 2)
})

test('what the front door must not answer takes the full path', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s)
  const door = app.frontDoor!
  const warm = await get(url + LIST)

  const revalidated = await get(url + LIST, { 'cache-control': 'no-cache' })
  t.match(revalidated.headers['cache-status'], /fwd=request; stored/, 'no-cache revalidates upstream')
  t.equal(s.count(LIST_PATH), 2)

  // fetch() adds Cache-Control: no-cache to a request with If-None-Match (the Fetch standard).
  const conditional = await get(url + LIST, { 'if-none-match': warm.headers.etag! })
  t.equal(conditional.status, 304, 'a conditional request that also asks to revalidate gets its 304 from the route')

  const head = await get(url + LIST, {}, 'HEAD')
  t.equal(head.status, 200)
  t.equal(head.body, '')

  const fromBrowser = await get(url + LIST, { origin: 'https://dash.example' })
  t.equal(fromBrowser.status, 200, 'a browser request goes to the CORS-aware path')
  t.equal(door.served, 0, 'none of them was answered by the front door')

  const bad = await get(`${url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=abc`)
  const badAgain = await get(`${url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=abc`)
  t.equal(bad.status, 400)
  t.equal(badAgain.status, 400, 'an invalid URL is never learned')
  t.equal(badAgain.headers['content-type'], 'application/problem+json; charset=utf-8')

  const missing = await get(`${url}/v1/works/tiktok?accountId=nobody`)
  const missingAgain = await get(`${url}/v1/works/tiktok?accountId=nobody`)
  t.equal(missing.status, 404)
  t.equal(missingAgain.status, 404)
  t.equal(JSON.parse(missingAgain.body).requestId, missingAgain.headers['x-request-id'], 'a remembered "not found" carries its own request id')
  t.equal(door.served, 0)

  const hit = await get(url + LIST)
  t.equal(hit.status, 200)
  t.equal(door.served, 1, 'a plain repeat still is')
})

/** A GET with exactly these headers (fetch() would add some of its own). */
async function raw (url: string, headers: Record<string, string>): Promise<{ status: number, headers: Record<string, string>, body: string }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet(url, { headers }, resolve).on('error', reject))
  let body = ''
  for await (const chunk of res) body += chunk
  return { status: res.statusCode!, headers: res.headers as Record<string, string>, body }
}

test('a matching If-None-Match gets the 304 the route would send, from the front door', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s)
  const door = app.frontDoor!
  const warm = await get(url + LIST)
  const etag = warm.headers.etag!
  const full = await app.inject({ url: LIST, headers: { 'if-none-match': etag } })
  t.equal(full.statusCode, 304)

  const before = await counted(url, '/v1/works/:platform', 304)
  const fast = await raw(url + LIST, { 'if-none-match': etag })
  t.equal(fast.status, 304)
  t.equal(door.served, 1, 'answered by the front door')
  t.equal(fast.body, '')
  const names = (h: Record<string, unknown>) => Object.keys(h).filter(n => !TRANSPORT.has(n)).sort()
  t.same(names(fast.headers), names(full.headers), 'the same headers as the route\'s 304')
  for (const name of ['etag', 'cache-status', 'cache-control', 'content-type']) t.equal(fast.headers[name], String(full.headers[name]), name)

  const other = await raw(url + LIST, { 'if-none-match': '"something-else"' })
  t.equal(other.status, 200, 'another validator: the whole answer')
  t.equal(other.body, warm.body)
  t.equal(door.served, 2)
  t.equal(await counted(url, '/v1/works/:platform', 304), before + 1, 'the 304 counted as a 304')
  t.equal(s.count(LIST_PATH), 1)
})

test('with API keys: a valid key is answered and counted as its caller; a bad one gets the 401 problem', async t => {
  const s = await sandbox(t)
  const key = 'front-door-test-key-0123456789'
  const { app, url } = await listening(t, s, { BFF_API_KEYS: `svc:${key}` })
  const door = app.frontDoor!
  await get(url + LIST, { authorization: `Bearer ${key}` })
  const ok = await get(url + LIST, { 'x-api-key': key })
  t.equal(ok.status, 200)
  t.equal(door.served, 1)

  const refused = await get(url + LIST, { 'x-api-key': 'not-the-key' })
  t.equal(refused.status, 401)
  t.equal(JSON.parse(refused.body).code, 'UNAUTHORIZED')
  const anonymous = await get(url + LIST)
  t.equal(anonymous.status, 401)
  t.equal(door.served, 1, 'refusals are left to the full path')
  const text = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': key } })).text()
  t.match(text, /bff_http_requests_by_caller_total\{caller="svc"\} [2-9]/, 'the front door hit counts for its caller')
})

test('with CORS: a browser request is not what the front door learns from', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s, { CORS_ORIGINS: 'https://dash.example' })
  const browser = await get(url + LIST, { origin: 'https://dash.example' })
  t.equal(browser.headers['access-control-allow-origin'], 'https://dash.example')
  const service = await get(url + LIST)
  const again = await get(url + LIST)
  t.equal(app.frontDoor!.served, 1, 'learned from the request without an Origin')
  for (const r of [service, again]) t.notOk(r.headers['access-control-allow-origin'], "no other request's CORS answer")
  t.equal(again.headers.vary, service.headers.vary, 'Vary as the route sends it')
  const browserAgain = await get(url + LIST, { origin: 'https://dash.example' })
  t.equal(browserAgain.headers['access-control-allow-origin'], 'https://dash.example', 'browsers still get theirs')
  t.equal(app.frontDoor!.served, 1)
})

test('with caller budgets on, a hit is answered at the door and counted; over budget, the full path\'s 429', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s, { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_S: '600' })
  const door = app.frontDoor!
  t.ok(door, 'the front door is on')
  const first = await get(url + LIST)
  t.equal(first.headers['ratelimit-remaining'], '3')
  const hit = await get(url + LIST)
  t.equal(door.served, 1, 'the hit came from the front door')
  t.equal(hit.headers['ratelimit-limit'], '4')
  t.equal(hit.headers['ratelimit-remaining'], '2', 'and was counted like any request')
  t.match(hit.headers['ratelimit-reset'], /^\d+$/)
  t.equal(hit.body, first.body)
  await get(url + LIST)
  await get(url + LIST)
  const refused = await get(url + LIST)
  t.equal(refused.status, 429, 'the fifth request of four')
  t.equal(door.served, 3, 'a refusal is the full path\'s, not the door\'s')
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.equal(JSON.parse(refused.body).code, 'RATE_LIMITED')
  t.ok(Number(refused.headers['retry-after']) >= 1)
  t.equal(refused.headers['ratelimit-remaining'], '0')
})

test('TRUST_PROXY: a caller behind the load balancer is its own budget, at the door and on the full path', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s, { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_S: '600', TRUST_PROXY: '1' })
  await get(url + LIST, { 'x-forwarded-for': '203.0.113.7' })
  const second = await get(url + LIST, { 'x-forwarded-for': '203.0.113.7' })
  t.equal(second.headers['ratelimit-remaining'], '0')
  t.equal(app.frontDoor!.served, 1)
  t.equal((await get(url + LIST, { 'x-forwarded-for': '203.0.113.7' })).status, 429, 'that client is spent')
  const other = await get(url + LIST, { 'x-forwarded-for': '198.51.100.9' })
  t.equal(other.status, 200, 'another client behind the same proxy is not')
  t.equal(other.headers['ratelimit-remaining'], '1')

  const untrusted = await listening(t, s, { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_S: '600' })
  await get(untrusted.url + LIST, { 'x-forwarded-for': '203.0.113.7' })
  const spoofed = await get(untrusted.url + LIST, { 'x-forwarded-for': '198.51.100.9' })
  t.equal(spoofed.headers['ratelimit-remaining'], '0', 'without TRUST_PROXY the header is not believed: one budget for the peer')
})

test('with every hit checked against Redis, the front door answers from Redis; an entry Redis lost is written back from memory', async t => {
  const s = await sandbox(t)
  const redisEnv = testRedis(t)
  const { app, url } = await listening(t, s, { ...redisEnv, CACHE_LOCAL_TTL_MS: '0' })
  const other = await listening(t, s, redisEnv)
  const door = app.frontDoor!
  const first = await get(url + LIST)
  t.equal(first.status, 200)
  const full = await app.inject({ url: LIST })
  const fast = await get(url + LIST)
  t.equal(door.served, 1, 'answered by the front door from Redis')
  t.equal(fast.body, first.body)
  t.equal(fast.headers['cache-status'], String(full.headers['cache-status']))
  t.equal(fast.headers.etag, first.headers.etag)
  t.equal(s.count(LIST_PATH), 1)

  // The entry leaves Redis (a restart): this instance's unexpired copy stands, and goes back.
  const redis = await connectedRedis(t, redisEnv.REDIS_URL, redisEnv.REDIS_KEY_PREFIX)
  const keys = (await redis.keys(`${redisEnv.REDIS_KEY_PREFIX}c:*`)).map(k => k.slice(redisEnv.REDIS_KEY_PREFIX.length))
  t.ok(keys.length > 0, 'the entry was in Redis')
  await redis.del(...keys)
  const kept = await get(url + LIST)
  t.equal(kept.status, 200)
  t.match(kept.headers['cache-status'], /^metrics-bff; hit/, 'still a hit')
  t.equal(door.served, 2, 'from the front door')
  t.equal(s.count(LIST_PATH), 1, 'no upstream call')
  t.equal(await redis.exists(...keys), keys.length, 'written back to Redis')

  // Another instance: its first request for the URL goes through its router (a hit from Redis).
  const elsewhere = await get(other.url + LIST)
  t.match(elsewhere.headers['cache-status'], /^metrics-bff; hit/)
  t.equal(other.app.frontDoor!.served, 0)
  t.equal(s.count(LIST_PATH), 1)
})

test('with no in-process copies (CACHE_LOCAL_MAX_MB=0), every hit is a read of Redis', async t => {
  const s = await sandbox(t)
  const { app, url } = await listening(t, s, { ...testRedis(t), CACHE_LOCAL_TTL_MS: '0', CACHE_LOCAL_MAX_MB: '0' })
  const first = await get(url + LIST)
  const hits = await Promise.all([1, 2, 3].map(() => get(url + LIST)))
  t.ok(hits.every(h => h.status === 200 && h.body === first.body && /^metrics-bff; hit/.test(h.headers['cache-status']!)))
  t.equal(app.frontDoor!.served, 3)
  t.equal(app.cache.local.entries, 0, 'nothing kept in process')
  t.equal(s.count(LIST_PATH), 1)
})

/** A front door on a plain HTTP server over a real cache, with one entry stored for KEY. */
async function door (t: Tap, wiring: Partial<FrontDoorWiring> = {}): Promise<{ door: FrontDoor, url: string, cache: Cache }> {
  const memory = new MemoryStore(1024 * 1024)
  const cache = new Cache({ memory, redis: null, log: pino({ level: 'silent' }), localTtlMs: 0, lockMs: 1000, backgroundMs: 1000 })
  memory.set('KEY', makeEntry(200, Buffer.from('{"ok":true}'), Date.now(), { freshMs: 60_000, staleMs: 0, errorMs: 0 }))
  const d = new FrontDoor()
  let id = 0
  d.wire({ cache, refusing: () => false, observe: () => {}, requestId: () => `id-${++id}`, ...wiring })
  const server: Server = createServer((req, res) => {
    const full = (_req: unknown, r: typeof res) => { r.writeHead(299).end('full path') }
    if (!d.serve(req, res, full)) full(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return { door: d, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, cache }
}

function learn (d: FrontDoor, url: string, key: string, until = Infinity): void {
  const req = { method: 'GET', url, headers: {}, routeOptions: { url: '/route' } } as unknown as FastifyRequest
  const reply = { getHeaders: () => ({ 'x-request-id': 'not replayed', vary: 'Origin' }) } as unknown as FastifyReply
  d.learn(req, reply, key, { 'content-type': 'application/json; charset=utf-8' }, until)
}

test('front door: serves what it learned, replays the fixed headers, never the per-request ones', async t => {
  const { door: d, url } = await door(t)
  learn(d, '/a?x=1', 'KEY')
  const res = await get(`${url}/a?x=1`)
  t.equal(res.status, 200)
  t.equal(res.body, '{"ok":true}')
  t.equal(res.headers.vary, 'Origin')
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(res.headers['x-request-id'], 'id-1')
  t.equal((await get(`${url}/a?x=2`)).status, 299, 'another URL is not known')
})

test('front door: refuses while the app is refusing, and forgets a URL whose key has changed', async t => {
  let refusing = true
  const { door: d, url } = await door(t, { refusing: () => refusing })
  learn(d, '/a', 'KEY')
  t.equal((await get(`${url}/a`)).status, 299, 'closing or shedding: the full path answers')
  refusing = false
  t.equal((await get(`${url}/a`)).status, 200)

  learn(d, '/dated', 'KEY', Date.now() - 1)
  t.equal((await get(`${url}/dated`)).status, 299, 'past its date the URL goes to the route again')
  t.equal(d.size, 1, 'and is forgotten')
})

test('front door: the URL index stays within its bounds', async t => {
  const { door: d } = await door(t)
  for (let i = 0; i < 25_000; i++) learn(d, `/u/${i}`, 'KEY')
  t.equal(d.size, 20_000, 'the oldest URLs make room')
  const long = 'x'.repeat(300_000)
  for (let i = 0; i < 20; i++) learn(d, `/${long}${i}`, 'KEY')
  t.ok(d.size < 20_000, `long URLs count by their length (${d.size} kept)`)
})
