/**
 * The Douyin bill source over real HTTP: the sandbox's bill API and its own bill file host, and
 * small servers of our own for what the sandbox will not do (a host off the list, a redirect off
 * it). What is checked is the guarantee: the same rows as the daily API, bounded memory, nothing
 * fetched from a host off the list, an expired link asked for anew once, odd money a warning.
 */
import { test } from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { stackApp, startSandboxes } from './helpers/stack.js'
import { testRedis, type Tap } from './helpers/redis.js'
import { BILL_LINK_PATH, DAILY_DATA_PATH, TASK_VIDEO_DATA_PATH, type DouyinSandbox } from '../src/sandbox/douyin/server.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, beijingToday, publishTime, type DouyinVideo } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'
import type { BillStyle } from '../src/sandbox/douyin/bill.js'

const day = (n: number) => addDays(beijingToday(), -n)
const daily = (query: string) => `/v1/douyin/task-videos/daily?${query}`
const video = (daysAgo: number) => DOUYIN_VIDEOS.find(v => v.publishedDaysAgo === daysAgo)!
const view = (v: DouyinVideo, query: string) => `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&${query}`
const MONEY = ['gmv', 'refundGmv', 'billingGmv', 'billingRefundGmv', 'adShareCost', 'feedAdShareCost', 'activeCount', 'talentProfit'] as const
const links = (dy: DouyinSandbox) => dy.count(BILL_LINK_PATH)
/** Every call to a Douyin API (the bill file host is not one). */
const apiCalls = (dy: DouyinSandbox) => dy.count('/api/match/')

/** A tiny HTTP server that records what reaches it and answers with `handle`. */
async function server (t: Tap, handle: (url: string, res: import('node:http').ServerResponse) => void): Promise<{ url: string, hits: string[] }> {
  const hits: string[] = []
  const s: Server = createServer((req, res) => {
    hits.push(req.url ?? '')
    handle(req.url ?? '', res)
  })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { s.closeAllConnections(); s.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits }
}

/** What both sources must agree on, per row. */
function common (w: any): Record<string, unknown> {
  return { id: w.workId, date: w.date, publishedAt: w.publishedAt, author: w.author?.platformUid, task: w.task?.id, ...Object.fromEntries(MONEY.map(m => [m, w.metrics[m]])) }
}

test('the bill answers the same rows and totals as the daily API for the same data, and says which API it used', async t => {
  const s = await startSandboxes(t)
  const bill = await stackApp(t, s, { DOUYIN_SOURCE: 'bill' })
  const dailyApi = await stackApp(t, s, { DOUYIN_SOURCE: 'daily' })
  for (const query of [`billingDateFrom=${day(3)}&billingDateTo=${day(1)}&all=true`, `billingDate=${day(2)}&page=2&pageSize=5`, `billingDate=${day(1)}&douyinId=${DOUYIN_VIDEOS[1]!.douyinId}`]) {
    const [a, b] = await Promise.all([bill.inject({ url: daily(query) }), dailyApi.inject({ url: daily(query) })])
    t.equal(a.statusCode, 200, 'HTTP 200', { body: a.body })
    t.equal(b.statusCode, 200, 'HTTP 200', { body: b.body })
    const [x, y] = [a.json(), b.json()]
    t.ok(x.items.length > 0, `${query}: rows`)
    t.same(x.items.map(common), y.items.map(common), `${query}: the same rows, in the same order, with the same money`)
    for (const m of MONEY) t.equal(x.totals[m], y.totals[m], `${query}: total ${m}`)
    t.ok(x.apis.every((u: any) => u.api === 'bill') && y.apis.every((u: any) => u.api === 'daily'), `${query}: apis say which`)
  }
  const one = (await bill.inject({ url: daily(`billingDate=${day(1)}&all=true`) })).json()
  const row = one.items[0]
  t.type(row.metrics.playCount, 'number', 'engagement from the bill (cumulative)')
  t.type(row.metrics.likeCount, 'number')
  t.type(row.toDate.gmv, 'number', 'money to date from the bill')
  t.equal(row.metrics.expectedProfit, null, 'the bill has no expected profit: null, not made up')
  t.equal(s.dy.count(DAILY_DATA_PATH) > 0 && links(s.dy) > 0, true)
  t.equal(s.dy.cdn.count(), 3, 'one download per billing date, whatever the queries')
})

test('a large bill streams: 1,000 and 100,000 rows parse with bounded memory', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { DOUYIN_SOURCE: 'bill', REQUEST_DEADLINE_MS: '60000' })
  for (const [rows, date] of [[1000, day(2)], [100_000, day(3)]] as const) {
    s.dy.setBillStyle({ extraRows: rows })
    global.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
    const res = await app.inject({ url: daily(`billingDate=${date}&publishedFrom=${day(25)}&pageSize=10`) })
    clearInterval(sampler)
    t.equal(res.statusCode, 200, `${rows} rows: HTTP 200`, { body: res.body.slice(0, 300) })
    t.equal(res.json().items.length, 10)
    const grown = (peak - before) / 2 ** 20
    t.comment(`${rows} rows: RSS grew ${grown.toFixed(0)} MiB at its peak (the parsed day is kept in the cache)`)
    t.ok(grown < (rows === 1000 ? 64 : 400), `${rows} rows: ${grown.toFixed(0)} MiB`)
  }
})

test('a link to a host off DOUYIN_BILL_HOSTS is refused, and nothing is fetched from it; nor through a redirect', async t => {
  const s = await startSandboxes(t)
  const trap = await server(t, (_url, res) => { res.end('账单统计日期,视频ID\n') })
  const app = await stackApp(t, s, { DOUYIN_SOURCE: 'bill' })
  s.dy.setLinkOrigin(trap.url)
  const res = await app.inject({ url: daily(`billingDate=${day(1)}`) })
  t.equal(res.statusCode, 502)
  t.match(res.json(), { code: 'UPSTREAM_BAD_RESPONSE', upstream: { name: 'douyin', code: 'BILL_HOST_REFUSED' } })
  t.match(res.json().detail, /is not HTTPS\); nothing was fetched/)
  t.same(trap.hits, [], 'nothing fetched from it')

  s.dy.setLinkOrigin('https://p9-taskbox-sign.byteimg.com.evil.example')
  t.equal((await app.inject({ url: daily(`billingDate=${day(2)}`) })).json().upstream.code, 'BILL_HOST_REFUSED', 'a lookalike suffix is no match')

  // An allowed host that redirects off the list: the redirect is not followed.
  const redirecting = await server(t, (url, res) => { res.writeHead(302, { location: `${trap.url}${url}` }).end() })
  const viaRedirect = await stackApp(t, s, { DOUYIN_SOURCE: 'bill', DOUYIN_BILL_HOSTS: `byteimg.com,${redirecting.url}` })
  s.dy.setLinkOrigin(redirecting.url)
  const redirected = await viaRedirect.inject({ url: daily(`billingDate=${day(3)}`) })
  t.equal(redirected.json().upstream?.code, 'BILL_HOST_REFUSED', 'the redirect off the list is refused', { body: redirected.body })
  t.equal(redirecting.hits.length, 1, 'the allowed host was asked')
  t.same(trap.hits, [], 'the host it redirected to was not')
})

test('an expired link is asked for anew once; a 403 from the file host too; twice is an error', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { DOUYIN_SOURCE: 'bill' })
  s.dy.expireNextLinks(1)
  const once = await app.inject({ url: daily(`billingDate=${day(1)}`) })
  t.equal(once.statusCode, 200, 'HTTP 200', { body: once.body })
  t.equal(links(s.dy), 2, 'a new link after the expired one')
  t.equal(s.dy.cdn.count(), 1, 'the expired one was not even tried')

  s.dy.addFault({ kind: 'status', status: 403, path: '.csv', times: 1 })
  const refused = await app.inject({ url: daily(`billingDate=${day(2)}`) })
  t.equal(refused.statusCode, 200, 'HTTP 200', { body: refused.body })
  t.equal(links(s.dy), 4, 'a 403 from the file host: one new link')
  t.equal(s.dy.cdn.count(), 3)

  s.dy.expireNextLinks(2)
  const twice = await app.inject({ url: daily(`billingDate=${day(3)}`) })
  t.equal(twice.statusCode, 502)
  t.equal(twice.json().upstream.code, 'BILL_LINK_EXPIRED')
  t.equal(links(s.dy), 6, 'two links, then an error: never a loop')
})

test('a cut or broken file is a 502 naming what is wrong, never a short day in the cache', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { DOUYIN_SOURCE: 'bill' })
  s.dy.addFault({ kind: 'truncated', path: '.csv', times: 2 })
  const cut = await app.inject({ url: daily(`billingDate=${day(1)}`) })
  t.equal(cut.statusCode, 502)
  t.equal(cut.json().upstream.code, 'BILL_TRUNCATED')
  t.equal(s.dy.cdn.count(), 2, 'cut once: one more link and download; cut again: an error')
  const after = await app.inject({ url: daily(`billingDate=${day(1)}`) })
  t.equal(after.statusCode, 200, 'nothing of the cut file was kept')

  s.dy.setBillStyle({ dropColumn: '当日视频产生的交易订单支付金额（单位：分）' })
  const missing = await app.inject({ url: daily(`billingDate=${day(2)}`) })
  t.equal(missing.statusCode, 502)
  t.match(missing.json().detail, /required column missing: 当日视频产生的交易订单支付金额（单位：分）/)
})

test('BOM or not, CRLF or LF, columns in any order, an unknown column: the same rows', async t => {
  const s = await startSandboxes(t)
  const styles: Array<Partial<BillStyle>> = [{}, { bom: false, eol: '\n' }, { reversed: true, unknownColumn: '视频备注' }]
  const seen: unknown[] = []
  for (const [i, style] of styles.entries()) {
    s.dy.setBillStyle({ bom: true, eol: '\r\n', reversed: false, ...style })
    const app = await stackApp(t, s, { DOUYIN_SOURCE: 'bill', REDIS_KEY_PREFIX: `bill${i}:` })
    const body = (await app.inject({ url: daily(`billingDate=${day(1)}&all=true`) })).json()
    seen.push(body.items.map((w: any) => ({ ...common(w), plays: w.metrics.playCount })))
    if (style.unknownColumn) t.equal(body.items[0].extra['视频备注'], 'note', 'an unknown column lands in extra')
  }
  t.same(seen[1], seen[0], 'no BOM, LF')
  t.same(seen[2], seen[0], 'reversed columns and one more')
})

test('money that is no integer fen: that field null, a warning, a counter, and a 200 for the page', async t => {
  const s = await startSandboxes(t)
  const v = DOUYIN_VIDEOS[0]!
  s.dy.setRowValue(v.videoId, { daily: 'ExpectedProfit' }, 12.5)
  s.dy.setRowValue(v.videoId, { daily: 'VideoLink' }, '该视频暂不可见')
  const app = await stackApp(t, s, { DOUYIN_SOURCE: 'daily' })
  const res = await app.inject({ url: daily(`billingDate=${day(1)}&pageSize=100`) })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  const body = res.json()
  const row = body.items.find((w: any) => w.workId === v.videoId)
  t.equal(row.metrics.expectedProfit, null, 'the fractional value is null')
  t.type(row.metrics.gmv, 'number', 'the rest of the row stands')
  t.same(body.warnings, [{ workId: v.videoId, date: day(1), field: 'expectedProfit', value: '12.5', reason: 'not an integer' }])
  t.equal(row.url, undefined, 'a VideoLink that is a sentence is no link')
  t.equal(row.extra.videoLink, '该视频暂不可见', 'kept in extra')
  t.match((await app.inject({ url: '/metrics' })).body, /bff_douyin_value_warnings_total 1\b/)

  s.dy.setRowValue(v.videoId, { bill: '当日视频产生的交易订单支付金额（单位：分）' }, '99.9')
  const bill = await stackApp(t, s, { DOUYIN_SOURCE: 'bill' })
  const fromBill = (await bill.inject({ url: daily(`billingDate=${day(1)}&pageSize=100`) })).json()
  t.equal(fromBill.items.find((w: any) => w.workId === v.videoId).metrics.gmv, null)
  t.match(fromBill.warnings, [{ workId: v.videoId, field: 'gmv', value: '99.9', reason: 'not an integer' }], 'the bill: the same rule')
})

test('auto: the daily API stands in when the bill API is missing for the app, and for a date without a bill', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s)
  s.dy.forceError(28001018, 1, undefined, BILL_LINK_PATH)
  const first = await app.inject({ url: daily(`billingDate=${day(1)}`) })
  t.equal(first.statusCode, 200, 'HTTP 200', { body: first.body })
  t.match(first.json().apis, [{ api: 'daily', note: /lacks the bill capability/ }])
  const linksAfter = links(s.dy)
  const second = await app.inject({ url: daily(`billingDate=${day(2)}`) })
  t.match(second.json().apis, [{ api: 'daily' }])
  t.equal(links(s.dy), linksAfter, 'the bill API is not asked again for a while')

  const fresh = await stackApp(t, s)
  const today = await fresh.inject({ url: daily(`billingDate=${day(0)}`) })
  t.equal(today.statusCode, 200, 'HTTP 200', { body: today.body })
  t.match(today.json().apis, [{ api: 'daily', note: /no bill/ }], 'today has no bill yet (T+1): the daily API')

  const strict = await stackApp(t, s, { DOUYIN_SOURCE: 'bill' })
  s.dy.forceError(28001018, 1, undefined, BILL_LINK_PATH)
  const refused = await strict.inject({ url: daily(`billingDate=${day(3)}`) })
  t.equal(refused.statusCode, 502, 'DOUYIN_SOURCE=bill: no stand-in')
  t.equal(refused.json().code, 'UPSTREAM_CAPABILITY_MISSING')
  const agency = await strict.inject({ url: daily(`billingDate=${day(3)}&agencyClientKey=awck97rsdsd015wd14`) })
  t.equal(agency.statusCode, 400, 'the bill has no agency column')
})

test('the merged view of a douyin video: plays and likes per day from the bill, no publishedAt needed', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s)
  const v = video(10)
  const res = await app.inject({ url: view(v, `since=${day(7)}&until=${day(1)}`) })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  const body = res.json()
  t.match(body.sources, [{ name: 'aitoearn', status: 'skipped' }, { name: 'douyin_taskbox', status: 'ok', api: 'bill' }])
  const plays = body.series.map((p: any) => p.metrics.playCount)
  t.ok(plays.every((n: unknown) => typeof n === 'number'), 'plays on every day')
  t.ok(plays.every((n: number, i: number) => i === 0 || n >= plays[i - 1]), 'cumulative: never down')
  t.ok(body.series.every((p: any) => typeof p.metrics.likeCount === 'number'), 'likes on every day')
  t.equal(body.totals.playCount, plays.at(-1), 'totals: the latest count, not a sum of running totals')
  t.equal(body.totals.gmv, body.series.reduce((n: number, p: any) => n + p.metrics.gmv, 0), 'money: the sum of the days')
  t.match(body.work, { title: v.title, task: { id: v.taskId, name: v.taskName }, author: { platformUid: v.douyinId, name: v.author }, publishedAt: new Date(publishTime(v) * 1000).toISOString() }, 'described by the task totals')
  t.type(body.work.toDate.gmv, 'number')
  t.equal(s.dy.count(TASK_VIDEO_DATA_PATH), 1, 'one task-totals call for the description')
  t.equal(s.dy.count(DAILY_DATA_PATH), 0, 'the daily API not asked')
})

test('a 30-day merged view, cold, via the bill: at most 31 Douyin API calls and one download per date, across instances', async t => {
  const s = await startSandboxes(t, { qps: 20 })
  const redis = testRedis(t)
  const [a, b] = await Promise.all([stackApp(t, s, redis), stackApp(t, s, redis)])
  const v = video(34)
  const url = view(v, `since=${day(30)}&until=${day(1)}`)
  const [x, y] = await Promise.all([a.inject({ url }), b.inject({ url })])
  t.equal(x.statusCode, 200, 'HTTP 200', { body: x.body })
  t.equal(y.statusCode, 200, 'HTTP 200', { body: y.body })
  t.ok(apiCalls(s.dy) <= 31, `${apiCalls(s.dy)} Douyin API calls for two instances`)
  t.equal(s.dy.cdn.count(), 30, 'one download per date across the fleet')
  t.equal(x.json().series.filter((p: any) => p.metrics.playCount !== null).length, 30 - 0, 'plays on every date (published 34 days ago)')
})
