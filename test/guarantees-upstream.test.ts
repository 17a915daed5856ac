/**
 * Back-pressure and bounded work, against fake upstreams that do what real ones do: a 429 with
 * Retry-After, a cursor that never advances, a body over the bound, a body cut short, a listing
 * whose pages never end.
 */
import { test } from 'tap'
import { buildApp } from './helpers/app.js'
import { fakeServer, json } from './helpers/fake.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const LIST = '/v1/works/tiktok?accountId=acc-1&limit=5'
const daily = (n: number, more = '') => `/v1/douyin/task-videos/daily?billingDate=${addDays(beijingToday(), -n)}${more}`
const token = { data: { access_token: 'act.fake-token-0123456789', expires_in: 7200 }, message: 'success' }
const page = (items: unknown[], pagination: Record<string, unknown>) => ({ code: 0, message: '请求成功', data: { platform: 'tiktok', items, pagination } })

test("AiToEarn's Retry-After reaches the caller; a cursor that does not advance ends with a problem", async t => {
  let mode = '429'
  const ai = await fakeServer(t, (_req, res) => {
    if (mode === '429') return json(res, 429, { message: 'Too Many Requests' }, { 'retry-after': '30' })
    if (mode === 'date') return json(res, 429, { message: 'slow down' }, { 'retry-after': new Date(Date.now() + 45_000).toUTCString() })
    json(res, 200, page([{ platformWorkId: 'w1' }], { mode: 'cursor', hasNext: true, nextCursor: 'same-cursor' }))
  })
  const app = await buildApp(t, { AITOEARN_BASE_URL: ai.url, AITOEARN_API_KEY: 'k' })
  const limited = await app.inject({ url: LIST })
  t.equal(limited.statusCode, 503)
  t.equal(limited.json().code, 'UPSTREAM_RATE_LIMITED')
  t.equal(limited.headers['retry-after'], '30', 'as AiToEarn said, not 1')
  mode = 'date'
  const dated = await app.inject({ url: `${LIST}&cursor=x` })
  t.ok(Number(dated.headers['retry-after']) >= 44 && Number(dated.headers['retry-after']) <= 46, `an HTTP-date Retry-After: ${String(dated.headers['retry-after'])} s`)

  mode = 'cursor'
  const first = await app.inject({ url: LIST })
  t.equal(first.json().page.nextCursor, 'same-cursor', 'a first page hands its cursor out')
  const stuck = await app.inject({ url: `${LIST}&cursor=same-cursor` })
  t.equal(stuck.statusCode, 502, 'the same cursor back: the listing does not advance')
  t.equal(stuck.json().code, 'UPSTREAM_BAD_RESPONSE')
  t.match(stuck.json().detail, /does not advance/)
})

test('Douyin HTTP 429 with Retry-After: the caller is told, and every call pauses that long', async t => {
  let limited = false
  const douyin = await fakeServer(t, (req, res) => {
    if (req.url!.includes('token')) return json(res, 200, token)
    if (!limited) {
      limited = true
      return json(res, 429, { message: 'too many' }, { 'retry-after': '2' })
    }
    json(res, 200, { err_no: 0, err_msg: 'success', log_id: 'l', data: { video_daily_data_list: [] } })
  })
  const app = await buildApp(t, { DOUYIN_BASE_URL: douyin.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: 'ck', DOUYIN_CLIENT_SECRET: 'secret-0123456789' })
  const refused = await app.inject({ url: daily(1) })
  t.equal(refused.statusCode, 503)
  t.equal(refused.headers['retry-after'], '2', 'as Douyin said')
  const next = await app.inject({ url: daily(2) })
  t.equal(next.statusCode, 200, 'the next call waits the pause out, then goes')
  const arrivals = douyin.requests.filter(r => r.url.includes('daily_data'))
  t.equal(arrivals.length, 2)
  const gap = arrivals[1]!.at - arrivals[0]!.at
  t.ok(gap >= 1900, `the next call reached Douyin ${gap} ms after the 429 (Retry-After: 2)`)
  t.ok(app.upstreams.douyinLimiter.stats.cooldowns >= 1, 'a shared cooldown was started')
})

test('bounded work: an over-size body is fetched once, a cut one twice, endless pages end in a 422', async t => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => `{"VideoId":${7000000000000000000n + BigInt(i)},"TaskId":7270785143852253697,"GMV1d":${i},"VideoTitle":"row ${i} of a page that never ends ${'x'.repeat(200)}","DouyinID":"A1"}`).join(',')
  const full = `{"err_no":0,"err_msg":"success","log_id":"l","data":{"video_daily_data_list":[${rows(10_000)}]}}`
  const ai = await fakeServer(t, (req, res) => {
    if (req.url!.includes('/huge')) return json(res, 200, `{"code":0,"data":"${'x'.repeat(9 * 1024 * 1024)}"}`)
    // Announces the whole body, sends part of it, closes.
    const body = JSON.stringify(page([{ platformWorkId: 'w1' }], { mode: 'cursor', hasNext: false }))
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.write(body.slice(0, 20))
    setImmediate(() => res.destroy())
  })
  const douyin = await fakeServer(t, (req, res) => {
    if (req.url!.includes('token')) return json(res, 200, token)
    json(res, 200, full)
  })
  const app = await buildApp(t, {
    AITOEARN_BASE_URL: ai.url,
    AITOEARN_API_KEY: 'k',
    DOUYIN_BASE_URL: douyin.url,
    DOUYIN_SOURCE: 'daily',
    DOUYIN_CLIENT_KEY: 'ck',
    DOUYIN_CLIENT_SECRET: 'secret-0123456789',
    REQUEST_DEADLINE_MS: '30000',
    RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0'
  })

  const huge = await app.inject({ url: '/v1/works/tiktok/huge/analytics?accountId=acc-1' })
  t.equal(huge.json().code, 'UPSTREAM_BAD_RESPONSE')
  t.equal(ai.count('/huge'), 1, 'the over-size body was downloaded once')
  const cut = await app.inject({ url: LIST })
  t.equal(cut.json().code, 'UPSTREAM_BAD_RESPONSE')
  t.equal(ai.count('/works/tiktok?'), 2, 'a cut body: tried once more, not three times')

  const before = process.memoryUsage().rss
  const walks = await Promise.all([1, 2, 3, 4].map(n => app.inject({ url: daily(n, '&all=true&pageSize=10000') })))
  const grown = (process.memoryUsage().rss - before) / 2 ** 20
  for (const w of walks) {
    t.equal(w.statusCode, 422)
    t.equal(w.json().code, 'RESULT_TOO_LARGE')
  }
  const pages = douyin.count('daily_data')
  t.ok(pages <= 8, `${pages} pages of 10000 rows fetched for four walks (DOUYIN_MAX_ROWS 20000 each)`)
  t.ok(grown < 400, `RSS grew ${grown.toFixed(0)} MB for four endless walks at once`)
  const ranged = await app.inject({ url: `/v1/douyin/task-videos/daily?billingDateFrom=${addDays(beijingToday(), -10)}&billingDateTo=${addDays(beijingToday(), -1)}&pageSize=10000` })
  t.equal(ranged.statusCode, 422, 'ten dates x 10000 rows: refused before any call')
  t.equal(douyin.count('daily_data'), pages, 'nothing fetched for it')
})
