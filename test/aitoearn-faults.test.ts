import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './helpers/app.js'
import { startAitoearnSandbox, type AitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

type Tap = { teardown: (fn: () => unknown) => void }

// Short timeouts so a hang is given up quickly; the assertions never measure time.
async function setup (t: Tap): Promise<{ sandbox: AitoearnSandbox, app: FastifyInstance }> {
  const sandbox = await startAitoearnSandbox()
  t.teardown(() => sandbox.close())
  const app = await buildApp(t, {
    AITOEARN_BASE_URL: sandbox.url,
    AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY,
    UPSTREAM_TIMEOUT_MS: '300',
    REQUEST_DEADLINE_MS: '1500'
  })
  return { sandbox, app }
}

const LIST = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=5'
const PATH = '/api/v2/channels/works/tiktok'

t.test('an HTML 502 page from a proxy becomes 502 UPSTREAM_ERROR after bounded retries', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'html', status: 502, path: PATH })
  const res = await app.inject({ url: LIST })
  t.equal(res.statusCode, 502)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(res.json(), { code: 'UPSTREAM_ERROR', upstream: { name: 'aitoearn', code: 'HTTP_502' } })
  t.ok(sandbox.count(PATH) > 1 && sandbox.count(PATH) <= 4, `retried, within bounds (${sandbox.count(PATH)} attempts)`)
})

t.test('a 5xx once, then a good answer: the retry succeeds', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'status', status: 503, path: PATH, times: 1 })
  const res = await app.inject({ url: LIST })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  t.equal(sandbox.count(PATH), 2)
})

t.test('business errors are never retried', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'body', path: PATH, body: JSON.stringify({ code: 15070, message: 'TikTok API failed', data: {}, timestamp: 1 }) })
  const res = await app.inject({ url: LIST })
  t.equal(res.statusCode, 502)
  t.match(res.json(), { code: 'UPSTREAM_ERROR', upstream: { code: 15070, message: 'TikTok API failed' } })
  t.equal(sandbox.count(PATH), 1)
})

t.test('a truncated body becomes 502 UPSTREAM_BAD_RESPONSE', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'truncated', path: PATH })
  const res = await app.inject({ url: LIST })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'UPSTREAM_BAD_RESPONSE')
})

t.test('a hang becomes 504 UPSTREAM_TIMEOUT while AiToEarn still holds the request', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'hang', path: PATH })
  const res = await app.inject({ url: LIST })
  t.equal(res.statusCode, 504)
  t.match(res.json(), { code: 'UPSTREAM_TIMEOUT', upstream: { name: 'aitoearn' } })
  t.ok(sandbox.faults.held.size >= 1, 'we gave up on our deadline; the upstream never answered')
})

t.test('a 200 that is not JSON, or not the documented shape, is UPSTREAM_BAD_RESPONSE', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: '<html>maintenance</html>' })
  const html = await app.inject({ url: LIST })
  t.equal(html.statusCode, 502)
  t.match(html.json(), { code: 'UPSTREAM_BAD_RESPONSE', detail: /not JSON/ })

  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ code: 0, message: 'ok', data: { platform: 'tiktok', items: { platformWorkId: 'x' }, pagination: { mode: 'cursor' } } }) })
  const shape = await app.inject({ url: LIST })
  t.equal(shape.statusCode, 502)
  t.match(shape.json(), { code: 'UPSTREAM_BAD_RESPONSE', detail: /data\/items/ })

  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: '{"code":0,"message":"ok","data":{"platform":"tiktok","items":[{"platformWorkId":7270855478333246754,"contentMode":"video"}],"pagination":{"mode":"cursor"}}}' })
  const numericId = await app.inject({ url: LIST })
  t.equal(numericId.statusCode, 502, 'a numeric id (possibly rounded) is refused, never passed on')

  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ message: 'no code' }) })
  t.equal((await app.inject({ url: LIST })).json().code, 'UPSTREAM_BAD_RESPONSE')
})

t.test('platform rate limit -> 503 with Retry-After; unknown codes keep their code', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ code: 15071, message: 'rate limited', data: {} }) })
  const limited = await app.inject({ url: LIST })
  t.equal(limited.statusCode, 503)
  t.equal(limited.json().code, 'UPSTREAM_RATE_LIMITED')
  t.equal(limited.headers['retry-after'], '60')

  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ code: 99999, message: 'brand new', data: {} }) })
  const unknown = await app.inject({ url: LIST })
  t.equal(unknown.statusCode, 502)
  t.match(unknown.json(), { code: 'UPSTREAM_ERROR', upstream: { code: 99999, message: 'brand new' } })

  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ code: 400, message: 'Bad Request', data: {} }) })
  t.match((await app.inject({ url: LIST })).json(), { code: 'VALIDATION_FAILED', upstream: { code: 400 } }, 'code 400 (source) handled like 10002 (docs)')
})

t.test('a connection reset on every attempt -> 503 UPSTREAM_UNAVAILABLE', async t => {
  const { sandbox, app } = await setup(t)
  sandbox.addFault({ kind: 'reset', path: PATH })
  const res = await app.inject({ url: LIST })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'UPSTREAM_UNAVAILABLE')
})
