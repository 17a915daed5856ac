import { test } from 'tap'
import { stackApp as app, startSandboxes as sandboxes } from './helpers/stack.js'
import { testRedis } from './helpers/redis.js'
import { DAILY_DATA_PATH, type DouyinSandbox } from '../src/sandbox/douyin/server.js'
import { seedAccounts } from '../src/sandbox/aitoearn/data.js'
import {
  DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS,
  beijingToday, publishTime, type DouyinVideo
} from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'
import { ENGAGEMENT, MONEY } from '../src/merge/series.js'

const ANALYTICS_PATH = '/analytics'
/** The daily API, where a test counts its calls (the bill's own tests: douyin-bill.test.ts). */
const DAILY = { DOUYIN_SOURCE: 'daily' }

const today = () => beijingToday()
const pubDay = (v: DouyinVideo) => new Date(publishTime(v) * 1000 + 8 * 3600_000).toISOString().slice(0, 10)
const video = (daysAgo: number) => DOUYIN_VIDEOS.find(v => v.publishedDaysAgo === daysAgo)!
const viewUrl = (platform: string, workId: string, query: string) => `/v1/works/${platform}/${encodeURIComponent(workId)}/metrics?${query}`
const dataCalls = (dy: DouyinSandbox) => dy.requests.filter(r => r.url.startsWith(DAILY_DATA_PATH)).map(r => JSON.parse(r.body ?? '{}') as Record<string, any>)
/** The publication time a caller passes for a douyin video (AiToEarn has none to give: no analytics for douyin). */
const hint = (v: DouyinVideo) => `publishedAt=${encodeURIComponent(new Date(publishTime(v) * 1000).toISOString())}`

test('a douyin video from the daily API: AiToEarn skipped (it has no douyin analytics), money from Douyin, merged by date', async t => {
  const s = await sandboxes(t)
  const a = await app(t, s, DAILY)
  const v = video(7)
  const since = addDays(today(), -9)
  const res = await a.inject({ url: viewUrl('douyin', v.videoId, `accountId=${DOUYIN_ACCOUNT_ID}&since=${since}&until=${today()}&${hint(v)}`) })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  t.equal(res.headers['x-sources-complete'], 'true')
  t.match(res.headers['cache-status'], /fwd=miss/)
  t.match(res.headers.etag, /^W\/"[A-Za-z0-9_-]+"$/)
  t.match(res.headers['cache-control'], /^private, max-age=\d+$/)
  const body = res.json()
  t.match(body.sources, [
    { name: 'aitoearn', status: 'skipped', reason: /no work analytics for douyin/ },
    { name: 'douyin_taskbox', status: 'ok', cacheStatus: 'miss', fetchedAt: /Z$/ }
  ])
  t.notOk('error' in body.sources[0], 'skipped, not failed')
  t.equal(s.ai.count(), 0, 'AiToEarn not asked')
  t.equal(body.currency, 'CNY')
  t.match(body.work, { source: 'merged', platform: 'douyin', workId: v.videoId, accountId: DOUYIN_ACCOUNT_ID, title: v.title, task: { id: v.taskId } })
  t.match(res.body, `"workId":"${v.videoId}"`, 'the 19-digit id, exact')
  t.same(body.series.map((p: any) => p.date), Array.from({ length: 10 }, (_, i) => addDays(since, i)), 'one point per date')

  // Douyin: one query per billing date from the publication day on, with that day as the window.
  const calls = dataCalls(s.dy)
  const expectedDates = body.series.map((p: any) => p.date).filter((d: string) => d >= pubDay(v))
  t.same(calls.map(c => c.billing_date).sort(), expectedDates, 'no query for the days before publication, one per day after')
  t.ok(calls.every(c => c.page_num === 1 && c.video_publish_end_time - c.video_publish_start_time === 86399), 'the Beijing day of publication')

  // The same data through the Douyin route: its cache entries are shared (no new upstream call).
  const daily = (await a.inject({ url: `/v1/douyin/task-videos/daily?billingDateFrom=${pubDay(v)}&billingDateTo=${today()}&publishedFrom=${pubDay(v)}&publishedTo=${pubDay(v)}&pageSize=1000` })).json()
  t.equal(dataCalls(s.dy).length, calls.length, 'the Douyin route answered from the view\'s per-date entries')

  const rows = new Map<string, any>(daily.items.filter((w: any) => w.workId === v.videoId).map((w: any) => [w.date, w]))
  t.equal(rows.size, expectedDates.length, 'Douyin has a row of this video on each of those days')
  for (const point of body.series) {
    const row = rows.get(point.date)
    for (const name of MONEY) t.equal(point.metrics[name], row ? row.metrics[name] : null, `${point.date} ${name}`)
  }
  for (const name of ENGAGEMENT) t.equal(body.totals[name], null, `${name}: no source reports it here, null`)
  t.equal(body.totals.gmv, [...rows.values()].reduce((sum, w) => sum + w.metrics.gmv, 0), 'money: the sum over the days')
  t.same(body.work.metrics, body.totals)
})

test('a tiktok work: AiToEarn alone, douyin_taskbox skipped', async t => {
  const s = await sandboxes(t)
  const a = await app(t, s)
  const work = seedAccounts().get('acc-tiktok-1')!.works[0]!
  const res = await a.inject({ url: viewUrl('tiktok', work.platformWorkId, 'accountId=acc-tiktok-1') })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  t.equal(res.headers['x-sources-complete'], 'true')
  const body = res.json()
  t.match(body.sources, [{ name: 'aitoearn', status: 'ok' }, { name: 'douyin_taskbox', status: 'skipped', reason: /douyin/ }])
  t.notOk('error' in body.sources[1])
  t.same(body.series.map((p: any) => p.date), Array.from({ length: 7 }, (_, i) => addDays(today(), i - 7)), 'default: the 7 days up to yesterday')
  t.equal(body.totals.viewCount, work.metrics.viewCount)
  t.equal(body.totals.gmv, null, 'no money source: null')
  t.equal(body.work.currency, undefined, 'no money in the record')
  t.equal(s.dy.count(), 0, 'Douyin never asked')
})

test('a second identical call makes no upstream call; If-None-Match gets a 304', async t => {
  const s = await sandboxes(t)
  const a = await app(t, s)
  const url = viewUrl('douyin', video(4).videoId, `accountId=${DOUYIN_ACCOUNT_ID}&until=${today()}&${hint(video(4))}`)
  const first = await a.inject({ url })
  t.equal(first.statusCode, 200)
  const counts = [s.ai.count(), s.dy.count()]
  const second = await a.inject({ url })
  t.same([s.ai.count(), s.dy.count()], counts, 'no upstream call')
  t.equal(second.headers['cache-status'], 'metrics-bff; hit')
  t.match(second.json().sources, [{ status: 'skipped' }, { cacheStatus: 'hit' }])
  t.equal(second.headers.etag, first.headers.etag, 'the same validator as the answer that filled the cache')
  t.equal(second.body.replaceAll('"cacheStatus":"hit"', '"cacheStatus":"miss"'), first.body, 'the same view; only cacheStatus differs')
  const third = await a.inject({ url })
  t.equal(third.body, second.body)

  const notModified = await a.inject({ url, headers: { 'if-none-match': first.headers.etag as string } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
  t.equal(notModified.headers.etag, first.headers.etag)
  const other = await a.inject({ url, headers: { 'if-none-match': 'W/"other"' } })
  t.equal(other.statusCode, 200)
  t.same([s.ai.count(), s.dy.count()], counts, 'still no upstream call')

  const revalidated = await a.inject({ url, headers: { 'cache-control': 'no-cache' } })
  t.equal(revalidated.headers['cache-status'], 'metrics-bff; fwd=request')
  t.ok(s.dy.count() > counts[1]!, 'no-cache revalidates the Douyin entries')
})

test('daily API: a 30-day view costs one upstream call per billing date and page; a new day one more', async t => {
  // Headroom above our limiter's 10/s: a 28003018 retry on a loaded machine is the limiter's
  // business (its own tests), not what this test counts.
  const s = await sandboxes(t, { qps: 20 })
  const a = await app(t, s, DAILY)
  const v = video(34)
  const first = await a.inject({ url: viewUrl('douyin', v.videoId, `accountId=${DOUYIN_ACCOUNT_ID}&since=${addDays(today(), -30)}&until=${addDays(today(), -1)}&${hint(v)}`) })
  t.equal(first.statusCode, 200, 'HTTP 200', { body: first.body })
  const body = first.json()
  t.equal(body.series.length, 30)
  const calls = dataCalls(s.dy)
  t.equal(calls.length, 30, 'thirty billing dates, one page each')
  t.equal(new Set(calls.map(c => `${c.billing_date}|${c.page_num}`)).size, 30, 'never the same date and page twice')
  t.equal(body.series.filter((p: any) => p.metrics.gmv !== null).length, 30, 'money on every day')

  const next = await a.inject({ url: viewUrl('douyin', v.videoId, `accountId=${DOUYIN_ACCOUNT_ID}&since=${addDays(today(), -29)}&until=${today()}&${hint(v)}`) })
  t.equal(next.statusCode, 200)
  t.equal(dataCalls(s.dy).length, 31, 'one day later: one new call, not thirty')
})

test('two instances sharing Redis: the second one calls no upstream', async t => {
  const s = await sandboxes(t)
  const redisEnv = testRedis(t)
  const [a, b] = await Promise.all([app(t, s, redisEnv), app(t, s, redisEnv)])
  const url = viewUrl('douyin', video(10).videoId, `accountId=${DOUYIN_ACCOUNT_ID}&${hint(video(10))}`)
  const first = await a.inject({ url })
  t.equal(first.statusCode, 200, 'HTTP 200', { body: first.body })
  const counts = [s.ai.count(), s.dy.count()]
  const second = await b.inject({ url })
  t.equal(second.statusCode, 200)
  t.same([s.ai.count(), s.dy.count()], counts)
  t.equal(second.headers.etag, first.headers.etag)
})

test('bad parameters: 400 before any upstream call', async t => {
  const s = await sandboxes(t)
  const a = await app(t, s)
  const id = video(4).videoId
  const cases: Array<[string, string]> = [
    [`accountId=x&since=${addDays(today(), -31)}&until=${addDays(today(), -0)}`, 'until'],
    [`accountId=x&since=${addDays(today(), -1)}&until=${addDays(today(), -3)}`, 'since'],
    [`accountId=x&until=${addDays(today(), 1)}`, 'until'],
    ['accountId=x&since=2026-02-30', 'since'],
    ['accountId=x&since=2026-2-3', 'since'],
    ['since=2026-01-01', 'accountId'],
    ['accountId=x&publishedAt=yesterday', 'publishedAt'],
    ['accountId=x&billingDate=2026-01-01', 'additional']
  ]
  for (const [query, field] of cases) {
    const res = await a.inject({ url: viewUrl('douyin', id, query) })
    t.equal(res.statusCode, 400, query)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(res.json().code, 'VALIDATION_FAILED')
    t.match(JSON.stringify(res.json().errors), field, `${query} names ${field}`)
  }
  const unknown = await a.inject({ url: viewUrl('Douyin', id, 'accountId=x') })
  t.equal(unknown.statusCode, 400, 'platform ids are case-sensitive')
  t.equal(s.ai.count() + s.dy.count(), 0, 'no upstream call at all')
})

test('the OpenAPI entry explains the merge rules and the partial-result contract', async t => {
  const s = await sandboxes(t)
  const a = await app(t, s)
  const doc = (await a.inject({ url: '/docs/json' })).json()
  const op = doc.paths['/v1/works/{platform}/{workId}/metrics'].get
  t.same(op.tags, ['works'])
  for (const word of [/Merge rules/, /engagement/i, /fen/, /null/, /x-sources-complete/, /worst/, /UPSTREAM_TIMEOUT/, /Beijing/, /31 days/, /publishedAt/, /ETag/]) t.match(op.description, word)
  for (const status of ['200', '304', '400', '404', '500', '502', '503', '504']) t.ok(op.responses[status], `response ${status}`)
  t.same(op.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name).sort(), ['accountId', 'douyinId', 'format', 'publishedAt', 'since', 'until'])
})

test('Pinterest reports per day: its days in the series, through the analytics route\'s entry', async t => {
  const s = await sandboxes(t)
  const a = await app(t, s)
  const work = seedAccounts().get('acc-pinterest-1')!.works[0]!
  const since = addDays(today(), -3)
  const until = addDays(today(), -1)
  const res = await a.inject({ url: viewUrl('pinterest', work.platformWorkId, `accountId=acc-pinterest-1&since=${since}&until=${until}`) })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  const body = res.json()
  const route = (await a.inject({ url: `/v1/works/pinterest/${work.platformWorkId}/analytics?accountId=acc-pinterest-1&since=${since}T00:00:00Z&until=${until}T00:00:00Z` })).json()
  t.equal(s.ai.count(ANALYTICS_PATH), 1, 'one AiToEarn call for the view and the route')
  t.same(body.series.map((p: any) => p.metrics.impressionCount), route.series.map((p: any) => p.metrics.impressionCount), 'one point per day, each its day\'s report')
  t.equal(body.series.length, 3)
  t.equal(body.totals.impressionCount, route.work.metrics.impressionCount, 'totals: the latest report')
  t.equal(body.totals.likeCount, null, 'not reported by Pinterest')
})
