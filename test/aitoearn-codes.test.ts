/**
 * AiToEarn's codes as the real server sends them (libs/common/src/enums/response-code.enum.ts,
 * B/platforms/platforms.exception.ts), through the BFF: each to a problem with a stable code,
 * "try again" codes retried within the deadline, accounts to reconnect said so, and answers about
 * something else than was asked refused.
 */
import t from 'tap'
import { buildApp } from './helpers/app.js'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { seedAccounts } from '../src/sandbox/aitoearn/data.js'
import { SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

const sandbox = await startAitoearnSandbox()
t.teardown(() => sandbox.close())
const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
const [work, other] = seedAccounts().get('acc-tiktok-1')!.works.map(w => w.platformWorkId)
const PATH = '/api/v2/channels/works/tiktok'
let n = 0
/** A fresh URL each time (nothing cached between cases). */
const list = () => `/v1/works/tiktok?accountId=acc-tiktok-1&limit=${(n++ % 20) + 1}`
const failure = (code: number, data: Record<string, unknown> = {}, message = 'from the fake') => JSON.stringify({ data, code, message, timestamp: Date.now(), requestId: 'r' })

t.test('accounts whose platform access must be renewed: 409 ACCOUNT_RECONNECT_REQUIRED', async t => {
  const abnormal = await app.inject({ url: '/v1/works/instagram?accountId=acc-reconnect-1' })
  t.equal(abnormal.statusCode, 409)
  t.match(abnormal.json(), { code: 'ACCOUNT_RECONNECT_REQUIRED', upstream: { code: 15001 } })
  t.match((await app.inject({ url: '/v1/works/youtube?accountId=acc-nocred-1' })).json(), { code: 'ACCOUNT_RECONNECT_REQUIRED', upstream: { code: 15006 } })
  for (const code of [15009, 15010, 15046, 15048, 15072, 15076, 15078]) {
    sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(code, { platform: 'tiktok' }) })
    const res = await app.inject({ url: list() })
    t.equal(res.statusCode, 409, `${code}`)
    t.equal(res.json().code, 'ACCOUNT_RECONNECT_REQUIRED')
  }
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(15070, { platform: 'tiktok', category: 'auth', retryable: false, httpStatus: 401 }) })
  t.equal((await app.inject({ url: list() })).json().code, 'ACCOUNT_RECONNECT_REQUIRED', 'a platform auth error too')
})

t.test('"try again" codes are retried within the deadline', async t => {
  for (const [code, data] of [[500, {}], [15094, { platform: 'tiktok', category: 'platform_unavailable', retryable: true }], [19001, {}], [15070, { platform: 'tiktok', category: 'network', retryable: true }]] as const) {
    const before = sandbox.count(PATH)
    sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(code, data) })
    const res = await app.inject({ url: list() })
    t.equal(res.statusCode, 200, `${code}: answered after a retry`)
    t.equal(sandbox.count(PATH), before + 2)
  }
  sandbox.addFault({ kind: 'body', path: PATH, times: 10, body: failure(15094, { platform: 'tiktok', retryable: true }) })
  const down = await app.inject({ url: list() })
  sandbox.faults.clear()
  t.equal(down.statusCode, 503)
  t.match(down.json(), { code: 'UPSTREAM_UNAVAILABLE', upstream: { code: 15094 } })
  t.ok(Number(down.headers['retry-after']) >= 1)
  sandbox.addFault({ kind: 'body', path: PATH, times: 10, body: failure(19001) })
  t.match((await app.inject({ url: list() })).json(), { code: 'UPSTREAM_UNAVAILABLE', upstream: { code: 19001 } })
  sandbox.faults.clear()
})

t.test('rate limits: 429 inside HTTP 200, and platform limits by category, with Retry-After', async t => {
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(429, { ttl: 30 }, 'Too many requests') })
  const limited = await app.inject({ url: list() })
  t.equal(limited.statusCode, 503)
  t.equal(limited.json().code, 'UPSTREAM_RATE_LIMITED')
  t.equal(limited.headers['retry-after'], '30')
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(15070, { platform: 'tiktok', category: 'rate_limit', retryable: false, httpStatus: 429, platformCode: 'rate_limit_exceeded' }) })
  const platform = await app.inject({ url: list() })
  t.match(platform.json(), { code: 'UPSTREAM_RATE_LIMITED', upstream: { code: 15070, category: 'rate_limit', platformCode: 'rate_limit_exceeded' } })
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(15070, { platform: 'tiktok', category: 'not_found', retryable: false }) })
  t.equal((await app.inject({ url: `/v1/works/tiktok/${work}/analytics?accountId=acc-tiktok-1` })).statusCode, 404, 'not_found: 404')
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: failure(15032, { platform: 'tiktok' }) })
  t.equal((await app.inject({ url: list() })).json().code, 'OPERATION_NOT_SUPPORTED', '15032: not offered there')
})

t.test('an answer about another platform, work or account: 502, never cached', async t => {
  const url = `/v1/works/tiktok/${other}/analytics?accountId=acc-tiktok-1`
  for (const data of [
    { platform: 'tiktok', platformWorkId: 'string', accountId: 'acc-tiktok-1', snapshots: [] },
    { platform: 'youtube', platformWorkId: other, accountId: 'acc-tiktok-1', snapshots: [] },
    { platform: 'tiktok', platformWorkId: other, accountId: 'someone-else', snapshots: [] }
  ]) {
    sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ data, code: 0, message: '请求成功', requestId: 'r' }) })
    const res = await app.inject({ url })
    t.equal(res.statusCode, 502)
    t.match(res.json(), { code: 'UPSTREAM_BAD_RESPONSE', detail: /another/ })
  }
  const next = await app.inject({ url })
  t.equal(next.statusCode, 200)
  t.match(next.headers['cache-status'], /fwd=miss/, 'none of them was cached')
  sandbox.addFault({ kind: 'body', path: PATH, times: 1, body: JSON.stringify({ data: { platform: 'youtube', items: [], pagination: { mode: 'cursor', hasNext: false } }, code: 0, message: '请求成功' }) })
  t.equal((await app.inject({ url: list() })).statusCode, 502, 'a works page of another platform')
})
