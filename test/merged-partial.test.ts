import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { stackApp, startSandboxes, type Sandboxes } from './helpers/stack.js'
import type { Tap } from './helpers/redis.js'
import { DAILY_DATA_PATH } from '../src/sandbox/douyin/server.js'
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
const url = (v: DouyinVideo, query = '') => `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&until=${today()}${query}`

/** Resolves once `cond()` holds (checked every few ms): waits for an event, never for a fixed time. */
async function until (cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise(resolve => setTimeout(resolve, 5))
}

test('the Douyin side failing: 200 with AiToEarn\'s data and Douyin\'s problem', async t => {
  const { dy, app } = await setup(t)
  dy.forceError(28001018, 100)
  const res = await app.inject({ url: url(video(4)) })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['x-sources-complete'], 'false')
  t.equal(res.headers['cache-control'], 'no-store', 'an incomplete view is not for keeping')
  t.match(res.headers['cache-status'], /detail=incomplete/)
  const body = res.json()
  t.match(body.sources[0], { name: 'aitoearn', status: 'ok', cacheStatus: 'miss' })
  t.match(body.sources[1], {
    name: 'douyin_taskbox',
    status: 'error',
    error: {
      type: 'urn:metrics-bff:problem:upstream-capability-missing',
      status: 502,
      code: 'UPSTREAM_CAPABILITY_MISSING',
      requestId: res.headers['x-request-id'],
      upstream: { name: 'douyin', code: 28001018 }
    }
  })
  t.notOk('cacheStatus' in body.sources[1])
  t.type(body.totals.playCount, 'number', 'engagement from AiToEarn')
  t.equal(body.totals.gmv, null, 'money: its source failed, so null')
  t.ok(body.series.every((p: any) => p.metrics.gmv === null))
  t.equal(body.series.at(-1).metrics.playCount, body.totals.playCount, 'today\'s snapshot in the series')
})

test('AiToEarn failing with a publishedAt hint: 200 with Douyin\'s data and AiToEarn\'s problem', async t => {
  const { ai, dy, app } = await setup(t)
  ai.addFault({ kind: 'status', status: 503, path: ANALYTICS_PATH })
  const v = video(4)
  const res = await app.inject({ url: url(v, `&publishedAt=${published(v)}`) })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['x-sources-complete'], 'false')
  const body = res.json()
  t.match(body.sources, [
    { name: 'aitoearn', status: 'error', error: { code: 'UPSTREAM_ERROR', upstream: { name: 'aitoearn', code: 'HTTP_503' } } },
    { name: 'douyin_taskbox', status: 'ok' }
  ])
  t.equal(body.totals.playCount, null, 'engagement: its source failed, so null')
  t.type(body.totals.gmv, 'number', 'money from Douyin')
  t.match(body.work, { title: v.title, publishedAt: published(v), task: { id: v.taskId } }, 'described by Douyin\'s row and the hint')
  t.ok(dy.count(DAILY_DATA_PATH) > 0)
})

test('both failing: the worst problem is the answer', async t => {
  const { ai, dy, app } = await setup(t)
  ai.addFault({ kind: 'status', status: 503, path: ANALYTICS_PATH })
  const v = video(4)

  // Without a hint the Douyin source cannot start (it needs the publication time): AiToEarn's problem.
  const noHint = await app.inject({ url: url(v) })
  t.equal(noHint.statusCode, 502)
  t.match(noHint.headers['content-type'], /^application\/problem\+json/)
  t.match(noHint.json(), { code: 'UPSTREAM_ERROR', upstream: { name: 'aitoearn' }, requestId: noHint.headers['x-request-id'] })
  t.equal(dy.count(DAILY_DATA_PATH), 0, 'Douyin not asked without a publication time')

  // With one, both fail upstream: 503 (quota) is worse than 502.
  dy.forceError(28003017, 100)
  const hinted = await app.inject({ url: url(v, `&publishedAt=${published(v)}`) })
  t.equal(hinted.statusCode, 503)
  t.match(hinted.json(), { code: 'UPSTREAM_QUOTA_EXHAUSTED', upstream: { name: 'douyin' } })
  t.ok(Number(hinted.headers['retry-after']) > 0, 'its Retry-After too')
})

test('a source missing the view deadline is a timeout; its cache fill helps the next call', async t => {
  const { ai, app } = await setup(t, { MERGED_VIEW_DEADLINE_MS: '300' })
  ai.addFault({ kind: 'latency', ms: 1500, path: ANALYTICS_PATH, times: 1 })
  const v = video(7)
  const misses = app.cache.stats.miss
  const first = await app.inject({ url: url(v, `&publishedAt=${published(v)}`) })
  t.equal(first.statusCode, 200, first.body)
  const body = first.json()
  t.match(body.sources, [
    { name: 'aitoearn', status: 'error', error: { code: 'UPSTREAM_TIMEOUT', status: 504, upstream: { name: 'aitoearn' } } },
    { name: 'douyin_taskbox', status: 'ok' }
  ])
  t.type(body.totals.gmv, 'number')
  const douyinMisses = app.cache.stats.miss - misses

  // The AiToEarn fill goes on in the background and lands in the cache.
  await until(() => app.cache.stats.miss > misses + douyinMisses)
  const second = await app.inject({ url: url(v, `&publishedAt=${published(v)}`) })
  t.equal(second.headers['x-sources-complete'], 'true')
  t.match(second.json().sources, [{ name: 'aitoearn', status: 'ok', cacheStatus: 'hit' }, { name: 'douyin_taskbox', status: 'ok', cacheStatus: 'hit' }])
  t.equal(ai.count(ANALYTICS_PATH), 1, 'the slow call served the next view')

  // Without a hint Douyin waits for AiToEarn: both miss the deadline.
  ai.addFault({ kind: 'latency', ms: 1500, path: ANALYTICS_PATH, times: 1 })
  const slow = await app.inject({ url: url(video(10)) })
  t.equal(slow.statusCode, 504)
  t.match(slow.json(), { code: 'UPSTREAM_TIMEOUT', upstream: { name: 'aitoearn' } })
})

test('douyin_taskbox skipped: published more than 90 days ago, or after the dates', async t => {
  const { dy, app } = await setup(t)
  const v = video(4)
  const old = await app.inject({ url: url(v, `&publishedAt=${addDays(today(), -100)}T12:00:00Z`) })
  t.equal(old.statusCode, 200, old.body)
  t.equal(old.headers['x-sources-complete'], 'true', 'a skipped source is not a failure')
  t.match(old.json().sources[1], { name: 'douyin_taskbox', status: 'skipped', reason: /90 days/ })

  const before = await app.inject({ url: `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${addDays(today(), -20)}&until=${addDays(today(), -10)}` })
  t.equal(before.statusCode, 200)
  t.match(before.json().sources[1], { status: 'skipped', reason: /before the video was published/ })
  t.equal(dy.count(), 0, 'Douyin never asked')

  const notAVideo = await app.inject({ url: `/v1/works/douyin/abc/metrics?accountId=${DOUYIN_ACCOUNT_ID}&publishedAt=${published(v)}` })
  t.equal(notAVideo.statusCode, 404, 'AiToEarn: no such work; Douyin: skipped, not a video id -> AiToEarn\'s problem')
  t.equal(notAVideo.json().code, 'NOT_FOUND')
  t.equal(dy.count(), 0)
})
