/**
 * The merged view against the real picture of its sources: AiToEarn has no analytics for douyin
 * works and Douyin taskbox has data for douyin videos only, so every work has one source at most.
 * That source's problem is the view's answer; a view with no source to ask says why, and asks none.
 */
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { stackApp, startSandboxes, type Sandboxes } from './helpers/stack.js'
import type { Tap } from './helpers/redis.js'
import { DAILY_DATA_PATH } from '../src/sandbox/douyin/server.js'
import { seedAccounts } from '../src/sandbox/aitoearn/data.js'
import {
  DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS,
  beijingToday, publishTime, type DouyinVideo
} from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const ANALYTICS_PATH = '/analytics'

async function setup (t: Tap, env: Record<string, string> = {}): Promise<Sandboxes & { app: FastifyInstance }> {
  const s = await startSandboxes(t)
  return { ...s, app: await stackApp(t, s, env) }
}

const today = () => beijingToday()
const video = (daysAgo: number) => DOUYIN_VIDEOS.find(v => v.publishedDaysAgo === daysAgo)!
const published = (v: DouyinVideo) => new Date(publishTime(v) * 1000).toISOString()
const douyinUrl = (v: DouyinVideo, query = '') => `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&until=${today()}&publishedAt=${published(v)}${query}`
const tiktok = seedAccounts().get('acc-tiktok-1')!.works[0]!
const tiktokUrl = `/v1/works/tiktok/${tiktok.platformWorkId}/metrics?accountId=acc-tiktok-1`

/** Resolves once `cond()` holds (checked every few ms): waits for an event, never for a fixed time. */
async function until (cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise(resolve => setTimeout(resolve, 5))
}

test('a douyin video whose Douyin source fails: Douyin\'s problem is the answer, not an empty 200', async t => {
  const { ai, dy, app } = await setup(t)
  dy.forceError(28001018, 100)
  const res = await app.inject({ url: douyinUrl(video(4)) })
  t.equal(res.statusCode, 502, 'HTTP 502', { body: res.body })
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), {
    type: 'urn:metrics-bff:problem:upstream-capability-missing',
    code: 'UPSTREAM_CAPABILITY_MISSING',
    requestId: res.headers['x-request-id'],
    upstream: { name: 'douyin', code: 28001018 }
  })
  t.equal(ai.count(), 0, 'AiToEarn not asked: it has no douyin analytics')

  const again = await app.inject({ url: douyinUrl(video(4)) })
  t.equal(again.statusCode, 502)
  t.ok(dy.count(DAILY_DATA_PATH) > 1, 'a failure is not kept: the next call asks again')
})

test('a tiktok work whose AiToEarn source fails: AiToEarn\'s problem is the answer', async t => {
  const { ai, dy, app } = await setup(t)
  ai.addFault({ kind: 'status', status: 503, path: ANALYTICS_PATH })
  const res = await app.inject({ url: tiktokUrl })
  t.equal(res.statusCode, 502, 'HTTP 502', { body: res.body })
  t.match(res.json(), { code: 'UPSTREAM_ERROR', upstream: { name: 'aitoearn', code: 'HTTP_503' }, requestId: res.headers['x-request-id'] })
  t.equal(dy.count(), 0, 'Douyin not asked: it has no tiktok data')
})

test('Douyin\'s quota used up: 503 with its Retry-After', async t => {
  const { dy, app } = await setup(t)
  dy.forceError(28003017, 100)
  const res = await app.inject({ url: douyinUrl(video(4)) })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { code: 'UPSTREAM_QUOTA_EXHAUSTED', upstream: { name: 'douyin' } })
  t.ok(Number(res.headers['retry-after']) > 0, 'its Retry-After too')
})

test('a source missing the view deadline is a timeout; its cache fill helps the next call', async t => {
  const { ai, app } = await setup(t, { MERGED_VIEW_DEADLINE_MS: '300' })
  ai.addFault({ kind: 'latency', ms: 1500, path: ANALYTICS_PATH, times: 1 })
  const misses = app.cache.stats.miss
  const first = await app.inject({ url: tiktokUrl })
  t.equal(first.statusCode, 504, 'HTTP 504', { body: first.body })
  t.match(first.json(), { code: 'UPSTREAM_TIMEOUT', status: 504, upstream: { name: 'aitoearn' } })

  // The AiToEarn fill goes on in the background and lands in the cache.
  await until(() => app.cache.stats.miss > misses)
  const second = await app.inject({ url: tiktokUrl })
  t.equal(second.statusCode, 200, 'HTTP 200', { body: second.body })
  t.equal(second.headers['x-sources-complete'], 'true')
  t.match(second.json().sources, [{ name: 'aitoearn', status: 'ok', cacheStatus: 'hit' }, { name: 'douyin_taskbox', status: 'skipped' }])
  t.equal(ai.count(ANALYTICS_PATH), 1, 'the slow call served the next view')
})

test('no source to ask (the daily API): 422 saying why each was skipped, and no upstream asked', async t => {
  const { ai, dy, app } = await setup(t, { DOUYIN_SOURCE: 'daily' })
  const v = video(4)
  const cases: Array<[string, string, RegExp]> = [
    ['published more than 90 days ago', `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&publishedAt=${addDays(today(), -100)}T12:00:00Z`, /90 days/],
    ['dates before the publication', `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${addDays(today(), -20)}&until=${addDays(today(), -10)}&publishedAt=${published(v)}`, /before the video was published/],
    ['not a Douyin video id', `/v1/works/douyin/abc/metrics?accountId=${DOUYIN_ACCOUNT_ID}&publishedAt=${published(v)}`, /not a Douyin video id|video id/]
  ]
  for (const [what, url, why] of cases) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 422, `${what}: HTTP 422`, { body: res.body })
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    const p = res.json()
    t.equal(p.code, 'OPERATION_NOT_SUPPORTED', what)
    t.match(p.detail, /aitoearn: AiToEarn has no work analytics for douyin/, `${what}: AiToEarn's reason`)
    t.match(p.detail, why, `${what}: Douyin's reason`)
  }
  t.equal(ai.count() + dy.count(), 0, 'no upstream asked')
})

test('no source to ask (the bill): a video in none of the bills of the dates is 422 too', async t => {
  const { ai, app } = await setup(t)
  const v = video(4)
  const res = await app.inject({ url: `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${addDays(today(), -20)}&until=${addDays(today(), -10)}` })
  t.equal(res.statusCode, 422, 'HTTP 422', { body: res.body })
  t.match(res.json().detail, /in none of Douyin's bills of these dates/)
  t.equal(ai.count(), 0)
})
