import { test } from 'tap'
import { buildApp } from './helpers/app.js'
import { startDouyinSandbox, DAILY_DATA_PATH, type DouyinSandbox, type DouyinSandboxOptions } from '../src/sandbox/douyin/server.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

type Tap = { teardown: (fn: () => unknown) => void }
const URL_ = '/v1/douyin/task-videos/daily'

async function setup (t: Tap, opts: DouyinSandboxOptions = {}, env: Record<string, string> = {}) {
  const sandbox = await startDouyinSandbox(opts)
  t.teardown(() => sandbox.close())
  const app = await buildApp(t, {
    DOUYIN_BASE_URL: sandbox.url,
    DOUYIN_SOURCE: 'daily',
    DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
    DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET,
    ...env
  })
  // no-cache: these tests are about what reaches Douyin, so every request revalidates.
  const get = (query: string) => app.inject({ method: 'GET', url: `${URL_}?${query}`, headers: { 'cache-control': 'no-cache' } })
  return { sandbox, app, get }
}

/** The bodies the sandbox received on the data endpoint. */
function dataCalls (s: DouyinSandbox): Array<Record<string, any>> {
  return s.requests.filter(r => r.url.startsWith(DAILY_DATA_PATH)).map(r => JSON.parse(r.body ?? '{}'))
}

const today = () => beijingToday()

test('ids arrive exact, money in fen with currency CNY, one metrics shape', async t => {
  const { sandbox, get } = await setup(t)
  const res = await get('pageSize=100')
  t.equal(res.statusCode, 200)
  t.notOk(res.headers['x-bff-sandbox'], 'no sandbox header when the config is not a sandbox')
  t.match(res.body, /"workId":"7270855478333246754"/, 'the docs video id, not ...246000')
  t.match(res.body, /"id":"7270785143852253697"/, 'the task id, exact')
  const body = res.json()
  t.equal(body.currency, 'CNY')
  t.equal(body.page.mode, 'page')
  t.equal(body.page.hasNext, false)
  t.notOk('total' in body.page, 'no total: Douyin reports none')
  const w = body.items.find((i: any) => i.workId === '7270855478333246754')
  t.equal(w.source, 'douyin_taskbox')
  t.equal(w.platform, 'douyin')
  t.equal(w.date, addDays(today(), -1), 'default billing date: yesterday in Beijing')
  t.equal(w.task.name, '小程序B的支付分成绑定任务R4')
  t.equal(w.author.platformUid, 'A79322340')
  t.ok(Number.isInteger(w.metrics.gmv) && Number.isInteger(w.metrics.expectedProfit), 'money as integer fen')
  t.equal(w.metrics.viewCount, null, 'a metric the source does not report is null')
  t.equal(typeof w.metrics.activeCount, 'number', 'ActiveCnt1d -> activeCount')
  const gmvSum = body.items.reduce((a: number, i: any) => a + i.metrics.gmv, 0)
  t.equal(body.totals.gmv, gmvSum, 'totals sum the items')
  t.equal(body.totals.likeCount, null)
  t.equal(sandbox.stats().tokenCalls, 1)
  const [call] = dataCalls(sandbox)
  t.equal(call!.billing_date, addDays(today(), -1))
  t.ok(call!.video_publish_end_time - call!.video_publish_start_time <= 30 * 86400, 'default window within 30 days')
})

test('PascalCase and snake_case rows normalise the same', async t => {
  const { sandbox, get } = await setup(t)
  const pascal = await get('pageSize=100')
  sandbox.setSpelling('snake')
  const snake = await get('pageSize=100')
  t.equal(snake.statusCode, 200)
  t.ok(pascal.json().items.length > 5)
  t.same(snake.json(), pascal.json())
})

test('all=true walks every page until a short page', async t => {
  const { sandbox, get } = await setup(t)
  const single = (await get('pageSize=1000')).json()
  const before = dataCalls(sandbox).length
  const res = await get('all=true&pageSize=3')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(body.items.map((i: any) => i.workId), single.items.map((i: any) => i.workId), 'the same rows as one big page')
  const pages = dataCalls(sandbox).slice(before).map(b => b.page_num)
  t.same(pages, Array.from({ length: Math.floor(single.items.length / 3) + 1 }, (_, i) => i + 1), 'pages 1..n, the last one short')
  t.same(body.page, { mode: 'none', hasNext: false, hasPrevious: false, pageSize: 3 })

  const paged = (await get('page=2&pageSize=3')).json()
  t.same(paged.page, { mode: 'page', hasNext: true, hasPrevious: true, page: 2, pageSize: 3 })
  t.same(paged.items.map((i: any) => i.workId), single.items.slice(3, 6).map((i: any) => i.workId))
  t.equal(sandbox.stats().rateLimited, 0, 'never above the upstream rate')
})

test('a 45-day publish window becomes two upstream queries of at most 30 days, merged', async t => {
  const { sandbox, get } = await setup(t)
  const res = await get(`publishedFrom=${addDays(today(), -44)}&publishedTo=${today()}&pageSize=1000`)
  t.equal(res.statusCode, 200)
  const calls = dataCalls(sandbox)
  t.equal(calls.length, 2)
  for (const c of calls) t.ok(c.video_publish_end_time - c.video_publish_start_time <= 30 * 86400, 'each window within 30 days')
  t.equal(calls[1]!.video_publish_start_time, calls[0]!.video_publish_end_time + 1, 'windows touch, no gap, no overlap')
  const ids = res.json().items.map((i: any) => i.workId)
  t.equal(new Set(ids).size, ids.length, 'no duplicates')
  // Seeded videos are published 1, 4, 7, ... days ago: 15 of them within 44 days.
  t.equal(ids.length, 15)
})

test('a billing-date range makes one query per date', async t => {
  const { sandbox, get } = await setup(t)
  const res = await get(`billingDateFrom=${addDays(today(), -3)}&billingDateTo=${addDays(today(), -1)}`)
  t.equal(res.statusCode, 200)
  t.same(dataCalls(sandbox).map(c => c.billing_date).sort(), [-3, -2, -1].map(d => addDays(today(), d)))
  const dates = new Set(res.json().items.map((i: any) => i.date))
  t.same([...dates].sort(), [-3, -2, -1].map(d => addDays(today(), d)))
})

test('bad parameters are refused with 400 before any upstream call', async t => {
  const { sandbox, get } = await setup(t)
  const cases: Array<[string, string]> = [
    [`publishedFrom=${addDays(today(), -95)}`, 'publishedFrom'],
    ['billingDate=2024-02-30', 'billingDate'],
    ['billingDate=2024-2-3', 'billingDate'],
    [`billingDate=${addDays(today(), 1)}`, 'billingDate'],
    [`billingDateFrom=${addDays(today(), -40)}&billingDateTo=${addDays(today(), -1)}`, 'billingDateTo'],
    [`billingDateFrom=${addDays(today(), -1)}`, 'billingDateTo'],
    [`billingDateFrom=${addDays(today(), -1)}&billingDateTo=${addDays(today(), -3)}`, 'billingDateFrom'],
    [`publishedFrom=${addDays(today(), -2)}&publishedTo=${addDays(today(), -5)}`, 'publishedFrom'],
    ['publishedTo=yesterday', 'publishedTo'],
    ['pageSize=10001', 'pageSize'],
    ['all=true&page=2', 'page'],
    ['billing_date=2024-01-01', 'additional']
  ]
  for (const [query, field] of cases) {
    const res = await get(query)
    t.equal(res.statusCode, 400, query)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    const body = res.json()
    t.equal(body.code, 'VALIDATION_FAILED')
    t.match(JSON.stringify(body.errors), field, `${query} names ${field}`)
  }
  const old = (await get(`publishedFrom=${addDays(today(), -95)}`)).json()
  t.match(old.detail, /90 days/, 'the 90-day refusal says so')
  t.equal(sandbox.count(), 0, 'no upstream call at all, not even for a token')
})

test('err_no mapping: unknown, capability, quota, parameters, transient, rate', async t => {
  const { sandbox, get } = await setup(t)

  sandbox.forceError(12345678)
  let res = await get('')
  t.equal(res.statusCode, 502)
  let body = res.json()
  t.equal(body.code, 'UPSTREAM_ERROR')
  t.equal(body.upstream.code, 12345678, 'an unknown err_no keeps its number')
  t.equal(body.upstream.name, 'douyin')
  t.match(body.upstream.requestId, /^\d{14}[0-9A-F]+$/, 'log_id -> upstream.requestId')

  sandbox.forceError(28001018)
  res = await get('')
  t.equal(res.statusCode, 502)
  body = res.json()
  t.equal(body.code, 'UPSTREAM_CAPABILITY_MISSING')
  t.match(body.detail, /data analysis/)

  sandbox.forceError(28001007, 1, 'bad billing_date')
  res = await get('')
  t.equal(res.statusCode, 400)
  t.equal(res.json().upstream.code, 28001007)

  let calls = sandbox.count(DAILY_DATA_PATH)
  sandbox.forceError(28001005, 2)
  res = await get('')
  t.equal(res.statusCode, 200, '28001005 retried with backoff, then success')
  t.equal(sandbox.count(DAILY_DATA_PATH) - calls, 3)

  calls = sandbox.count(DAILY_DATA_PATH)
  sandbox.forceError(28003018)
  res = await get('')
  t.equal(res.statusCode, 200, '28003018: cooled down and retried')
  t.equal(sandbox.count(DAILY_DATA_PATH) - calls, 2)

  sandbox.forceError(28003017)
  res = await get('')
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'UPSTREAM_QUOTA_EXHAUSTED')
  t.ok(Number(res.headers['retry-after']) > 0, 'Retry-After')
  calls = sandbox.count(DAILY_DATA_PATH)
  res = await get('')
  t.equal(res.statusCode, 503, 'calls stay paused after quota used up')
  t.equal(sandbox.count(DAILY_DATA_PATH), calls, 'without calling Douyin')
})

test('upstream faults become problems: HTML page, truncated body, bad shape', async t => {
  const { sandbox, get } = await setup(t, {}, { UPSTREAM_TIMEOUT_MS: '1000', REQUEST_DEADLINE_MS: '3000' })
  sandbox.addFault({ kind: 'html', status: 404, path: DAILY_DATA_PATH, times: 1 })
  let res = await get('')
  t.equal(res.statusCode, 502)
  t.equal(res.json().upstream.code, 'HTTP_404')
  sandbox.addFault({ kind: 'body', path: DAILY_DATA_PATH, body: '{"err_no":0,"data":{"video_daily_data_list":[{"VideoId":"not-a-number"}]}}', times: 1 })
  res = await get('')
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'UPSTREAM_BAD_RESPONSE')
  sandbox.addFault({ kind: 'body', path: DAILY_DATA_PATH, body: '{"data":[]}', times: 1 })
  res = await get('')
  t.equal(res.json().code, 'UPSTREAM_BAD_RESPONSE')
  sandbox.addFault({ kind: 'truncated', path: DAILY_DATA_PATH, times: 1 })
  res = await get('')
  t.equal(res.statusCode, 200, 'a cut-off body once: retried')
  sandbox.addFault({ kind: 'truncated', path: DAILY_DATA_PATH })
  res = await get('')
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'UPSTREAM_BAD_RESPONSE', 'a cut-off body every time: 502')
  sandbox.faults.clear()
})

test('sandbox upstream: every response of the route carries x-bff-sandbox: 1', async t => {
  const sandbox = await startDouyinSandbox()
  t.teardown(() => sandbox.close())
  // The sandbox's credentials come from src/sandbox/attach.ts in the server; here they are given.
  const app = await buildApp(t, { SANDBOX: 'true', DOUYIN_BASE_URL: sandbox.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY, DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET })
  const ok = await app.inject({ method: 'GET', url: URL_ })
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['x-bff-sandbox'], '1')
  const bad = await app.inject({ method: 'GET', url: `${URL_}?billingDate=nope` })
  t.equal(bad.statusCode, 400)
  t.equal(bad.headers['x-bff-sandbox'], '1', 'problems too')
  const other = await app.inject({ method: 'GET', url: '/healthz' })
  t.notOk(other.headers['x-bff-sandbox'], 'only the Douyin routes')
})

test('the OpenAPI entry documents units, limits, Beijing dates and errors', async t => {
  const { app } = await setup(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  const op = doc.paths[URL_].get
  t.same(op.tags, ['douyin'])
  t.ok(op.summary)
  for (const word of [/fen/, /Beijing/, /90 days/, /10000/, /31 days/, /UPSTREAM_CAPABILITY_MISSING/, /Retry-After/]) t.match(op.description, word)
  for (const status of ['200', '400', '500', '502', '503', '504']) t.ok(op.responses[status], `response ${status}`)
  const names = op.parameters.map((p: any) => p.name)
  for (const n of ['billingDate', 'billingDateFrom', 'billingDateTo', 'publishedFrom', 'publishedTo', 'douyinId', 'agencyClientKey', 'page', 'pageSize', 'all']) {
    t.ok(names.includes(n), `parameter ${n}`)
  }
})

test('a Douyin that never answers: 504 UPSTREAM_TIMEOUT within the deadline', async t => {
  const { sandbox, get } = await setup(t, {}, { UPSTREAM_TIMEOUT_MS: '300', REQUEST_DEADLINE_MS: '1200' })
  sandbox.addFault({ kind: 'hang', path: DAILY_DATA_PATH })
  const res = await get('')
  t.equal(res.statusCode, 504)
  t.equal(res.json().code, 'UPSTREAM_TIMEOUT')
  t.equal(res.json().upstream.name, 'douyin')
  sandbox.faults.clear()
  sandbox.faults.releaseHeld()
})
