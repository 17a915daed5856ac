/**
 * The typed client (clients/typescript, @metrics-bff/client) against the real service over real
 * HTTP: the app listening on a port of 127.0.0.1, pointed at both sandbox upstreams, caller keys on.
 */
import type { AddressInfo } from 'node:net'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { test } from 'tap'
import {
  createMetricsBffClient, isProblem,
  type DouyinDaily, type MergedView, type MetricsBffClient, type Platforms, type Problem, type WorkAnalytics, type WorksPage
} from '@metrics-bff/client'
import { stackApp, startSandboxes } from './helpers/stack.js'
import type { Tap } from './helpers/redis.js'
import { seedAccounts } from '../src/sandbox/aitoearn/data.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, beijingToday, publishTime } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const KEY = 'typed-client-0123456789abcdef'
const run = promisify(execFile)
const DIGITS_19 = /^\d{19}$/

/** The service listening on a free port with BFF_API_KEYS on; its base URL. */
async function listening (t: Tap): Promise<string> {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { BFF_API_KEYS: `typed-client:${KEY}` })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A fetch that records the Authorization header each request went out with. */
function recordingFetch (): { fetch: (req: Request) => Promise<Response>, sent: Array<string | null> } {
  const sent: Array<string | null> = []
  return { sent, fetch: async (req: Request) => { sent.push(req.headers.get('authorization')); return await fetch(req) } }
}

test('every /v1 route through the typed client, over real HTTP, with a caller key', async t => {
  const baseUrl = await listening(t)
  const spy = recordingFetch()
  const bff: MetricsBffClient = createMetricsBffClient({ baseUrl, apiKey: KEY, fetch: spy.fetch })
  const tiktok = seedAccounts().get('acc-tiktok-1')!.works
  const yesterday = addDays(beijingToday(), -1)
  const video = DOUYIN_VIDEOS[0]!

  // listPlatforms
  const platforms = await bff.GET('/v1/platforms')
  t.equal(platforms.response.status, 200, 'platforms: HTTP 200', { error: platforms.error })
  const list: Platforms = platforms.data!
  const tk = list.platforms.find(p => p.platform === 'tiktok')
  t.ok(tk, 'tiktok is listed')
  t.equal(tk!.capabilities.listWorks, true)
  t.equal(tk!.capabilities.workAnalytics, true)
  t.same(list.platforms.find(p => p.platform === 'douyin')?.sources.includes('douyin_taskbox'), true, 'douyin is served by the taskbox')
  t.match(list.fetchedAt, /Z$/)

  // listWorks: tiktok, acc-tiktok-1
  const works = await bff.GET('/v1/works/{platform}', { params: { path: { platform: 'tiktok' }, query: { accountId: 'acc-tiktok-1', limit: 5 } } })
  t.equal(works.response.status, 200, 'works: HTTP 200', { error: works.error })
  const page: WorksPage = works.data!
  t.equal(page.platform, 'tiktok')
  t.type(page.items[0]!.workId, 'string')
  t.match(page.items[0]!.workId, DIGITS_19)
  t.same(page.items.map(w => w.workId), tiktok.slice(0, 5).map(w => w.platformWorkId), '19-digit ids exact, in the platform\'s order')
  t.equal(page.items[0]!.metrics.viewCount, tiktok[0]!.metrics.viewCount)
  t.equal(page.items[0]!.metrics.gmv, null, 'not reported: null, never 0')
  t.match(page.page, { mode: 'cursor', hasNext: true, hasPrevious: false, limit: 5 })
  t.type(page.page.nextCursor, 'string')
  const next = await bff.GET('/v1/works/{platform}', { params: { path: { platform: 'tiktok' }, query: { accountId: 'acc-tiktok-1', limit: 5, cursor: page.page.nextCursor! } } })
  t.same(next.data!.items.map(w => w.workId), tiktok.slice(5, 10).map(w => w.platformWorkId), 'the cursor passes through the client unchanged')

  // getWorkAnalytics
  const work = tiktok[0]!
  const analytics = await bff.GET('/v1/works/{platform}/{workId}/analytics', { params: { path: { platform: 'tiktok', workId: work.platformWorkId }, query: { accountId: 'acc-tiktok-1' } } })
  t.equal(analytics.response.status, 200, 'analytics: HTTP 200', { error: analytics.error })
  const a: WorkAnalytics = analytics.data!
  t.match(a.work, { source: 'aitoearn', platform: 'tiktok', workId: work.platformWorkId, accountId: 'acc-tiktok-1' })
  t.equal(a.work.metrics.viewCount, work.metrics.viewCount)
  t.equal(a.work.metrics.impressionCount, null)
  t.equal(a.series.length, 1, 'tiktok: one snapshot per call')

  // The merged view of a douyin video (from the bill), 19-digit id in the path
  const merged = await bff.GET('/v1/works/{platform}/{workId}/metrics', {
    params: { path: { platform: 'douyin', workId: video.videoId }, query: { accountId: DOUYIN_ACCOUNT_ID, until: yesterday, publishedAt: new Date(publishTime(video) * 1000).toISOString() } }
  })
  t.equal(merged.response.status, 200, 'merged: HTTP 200', { error: merged.error })
  t.equal(merged.response.headers.get('x-sources-complete'), 'true')
  const view: MergedView = merged.data!
  t.match(view.work, { source: 'merged', platform: 'douyin', workId: video.videoId, task: { id: video.taskId } })
  t.equal(view.currency, 'CNY')
  t.same(view.sources.map(s => [s.name, s.status]), [['aitoearn', 'skipped'], ['douyin_taskbox', 'ok']])
  t.same(view.series.map(p => p.date), Array.from({ length: 7 }, (_, i) => addDays(yesterday, i - 6)), 'the 7 days up to until')
  t.type(view.totals.gmv, 'number', 'money from Douyin')
  t.same(view.work.metrics, view.totals)

  // The Douyin daily route
  const daily = await bff.GET('/v1/douyin/task-videos/daily', { params: { query: { billingDate: yesterday, pageSize: 1000 } } })
  t.equal(daily.response.status, 200, 'daily: HTTP 200', { error: daily.error })
  const d: DouyinDaily = daily.data!
  t.equal(d.currency, 'CNY')
  t.same(d.apis.map(x => x.date), [yesterday])
  const known = new Set(DOUYIN_VIDEOS.map(v => v.videoId))
  t.ok(d.items.length > 0, 'rows for yesterday')
  t.ok(d.items.every(w => w.source === 'douyin_taskbox' && w.date === yesterday && DIGITS_19.test(w.workId) && known.has(w.workId)), 'every row: a seeded 19-digit video id, exact')
  const row = d.items.find(w => w.workId === video.videoId)
  t.ok(row, 'the first seeded video has a row')
  t.equal(row!.task?.id, video.taskId, 'task id exact too')
  t.equal(d.totals.gmv, d.items.reduce((sum, w) => sum + (w.metrics.gmv ?? 0), 0), 'totals: money summed over the items')
  t.equal(row!.metrics.gmv, view.series.at(-1)!.metrics.gmv, 'the same money as the merged view\'s last day')

  t.equal(spy.sent.length, 6, 'every call went through the given fetch')
  t.ok(spy.sent.every(h => h === `Bearer ${KEY}`), 'each with Authorization: Bearer <apiKey>')
})

test('errors are typed problems: no key is UNAUTHORIZED 401, a bad query is VALIDATION_FAILED 400', async t => {
  const baseUrl = await listening(t)
  const anonymous = createMetricsBffClient({ baseUrl })
  const bff = createMetricsBffClient({ baseUrl: `${baseUrl}/`, apiKey: KEY })

  const noKey = await anonymous.GET('/v1/platforms')
  t.equal(noKey.response.status, 401)
  t.equal(noKey.data, undefined)
  const problem: Problem | undefined = noKey.error
  t.equal(problem?.code, 'UNAUTHORIZED')
  t.equal(problem?.status, 401)
  t.type(problem?.requestId, 'string')
  t.equal(noKey.response.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.ok(isProblem(noKey.error))

  const wrongKey = await createMetricsBffClient({ baseUrl, apiKey: `${KEY}x` }).GET('/v1/works/{platform}', { params: { path: { platform: 'tiktok' }, query: { accountId: 'acc-tiktok-1' } } })
  t.equal(wrongKey.error?.code, 'UNAUTHORIZED', 'a wrong key')

  const badLimit = await bff.GET('/v1/works/{platform}', { params: { path: { platform: 'tiktok' }, query: { accountId: 'acc-tiktok-1', limit: 0 } } })
  t.equal(badLimit.response.status, 400)
  t.equal(badLimit.error?.code, 'VALIDATION_FAILED')
  t.ok(badLimit.error?.errors?.some(e => e.field === 'limit' && e.in === 'querystring'), 'the failing field is named')

  const badDate = await bff.GET('/v1/douyin/task-videos/daily', { params: { query: { billingDate: 'yesterday' } } })
  t.equal(badDate.response.status, 400)
  t.equal(badDate.error?.code, 'VALIDATION_FAILED')

  const own = await bff.GET('/v1/platforms', { headers: { authorization: 'Bearer not-the-key-0123456789' } })
  t.equal(own.error?.code, 'UNAUTHORIZED', 'a call\'s own Authorization header wins over the client\'s key')
  t.equal((await bff.GET('/v1/platforms')).response.status, 200, 'a trailing slash on baseUrl is fine')
})

test('bad options fail at once, never quoting the key', async t => {
  const secret = 'sk-very-secret\nvalue-0123456789'
  const err = (() => { try { createMetricsBffClient({ baseUrl: 'http://127.0.0.1:1', apiKey: secret }); return undefined } catch (e) { return e as Error } })()
  t.type(err, TypeError)
  t.match(err?.message, /apiKey must be/)
  t.notMatch(err?.message, /secret|0123456789/, 'the key is not in the message')
  t.throws(() => createMetricsBffClient({ baseUrl: 'not a url', apiKey: KEY }), { name: 'TypeError', message: /baseUrl must be an absolute http\(s\) URL/ })
  t.throws(() => createMetricsBffClient({ baseUrl: 'ftp://127.0.0.1/' }), /baseUrl must be/)
  t.throws(() => createMetricsBffClient({ baseUrl: 'http://127.0.0.1:1', apiKey: '' }), /apiKey must be/)
})

test('plain Node loads the client as installed (no TypeScript loader) and calls the service', async t => {
  const baseUrl = await listening(t)
  const script = `import { createMetricsBffClient, isProblem } from '@metrics-bff/client'
const bff = createMetricsBffClient({ baseUrl: process.env.BASE_URL, apiKey: process.env.KEY })
const ok = await bff.GET('/v1/works/{platform}', { params: { path: { platform: 'tiktok' }, query: { accountId: 'acc-tiktok-1', limit: 2 } } })
const refused = await createMetricsBffClient({ baseUrl: process.env.BASE_URL }).GET('/v1/platforms')
console.log(JSON.stringify({ status: ok.response.status, ids: ok.data.items.map(w => w.workId), refused: refused.error.code, problem: isProblem(refused.error) }))`
  // node itself, from the repo root: the workspace link in node_modules, as a dependent service has it.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', BASE_URL: baseUrl, KEY } })
  const out = JSON.parse(stdout) as { status: number, ids: string[], refused: string, problem: boolean }
  t.equal(out.status, 200, 'listWorks through the installed package')
  t.same(out.ids, seedAccounts().get('acc-tiktok-1')!.works.slice(0, 2).map(w => w.platformWorkId), 'ids exact')
  t.equal(out.refused, 'UNAUTHORIZED')
  t.equal(out.problem, true)
})
