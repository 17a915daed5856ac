import t from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Client } from 'undici'
import { buildApp } from './helpers/app.js'
import { startAitoearnSandbox, type AitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { seedAccounts } from '../src/sandbox/aitoearn/data.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

type Tap = { teardown: (fn: () => unknown) => void }

async function setup (t: Tap): Promise<{ sandbox: AitoearnSandbox, app: FastifyInstance }> {
  const sandbox = await startAitoearnSandbox()
  t.teardown(() => sandbox.close())
  const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
  return { sandbox, app }
}

const accounts = seedAccounts()
const firstWork = (accountId: string) => accounts.get(accountId)!.works[0]!.platformWorkId
const analyticsUrl = (platform: string, workId: string, query: string) => `/v1/works/${platform}/${encodeURIComponent(workId)}/analytics?${query}`

t.test('analytics with one lifetime snapshot -> work + series', async t => {
  const { sandbox, app } = await setup(t)
  const id = firstWork('acc-tiktok-1')
  const res = await app.inject({ url: analyticsUrl('tiktok', id, 'accountId=acc-tiktok-1') })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  const body = res.json()
  t.match(body.work, { source: 'aitoearn', platform: 'tiktok', workId: id, accountId: 'acc-tiktok-1', contentType: 'video' })
  t.type(body.work.metrics.viewCount, 'number')
  t.equal(body.work.metrics.impressionCount, null, 'not reported by tiktok: null')
  t.equal(body.work.metrics.watchTimeSeconds, null)
  t.equal(body.series.length, 1)
  t.same(body.series[0].metrics, body.work.metrics, 'the top level is the latest snapshot')
  t.match(body.snapshotId, /^[0-9a-f]{24}$/, "AiToEarn's id of the snapshot it saved")
  t.match(body.fetchedAt, /Z$/)
  t.equal(sandbox.snapshotsSaved(), 1, 'one call, one snapshot saved upstream')
  // tiktok's provider puts the publish time in snapshotAt; the point is placed when it was read.
  const work = accounts.get('acc-tiktok-1')!.works[0]!
  t.not(work.publishedAt.slice(0, 10), body.fetchedAt.slice(0, 10), 'the seeded work was published another day')
  t.equal(body.series[0].at, body.fetchedAt, 'the point is at the fetch time, not the publish time')
  t.equal(body.work.publishedAt, work.publishedAt)
})

t.test('Pinterest: one point per day in since..until, sent to AiToEarn in UTC with Z', async t => {
  const { sandbox, app } = await setup(t)
  const id = firstWork('acc-pinterest-1')
  const res = await app.inject({ url: analyticsUrl('pinterest', id, `accountId=acc-pinterest-1&since=${encodeURIComponent('2026-01-01T08:00:00+08:00')}&until=2026-01-07T00:00:00Z`) })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  const body = res.json()
  t.equal(body.series.length, 7)
  t.same(body.series.map((p: { date: string }) => p.date), ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06', '2026-01-07'], 'each point is its day')
  t.notOk('periodStart' in body.series[0], 'AiToEarn gives no period bounds')
  t.same(body.work.metrics, body.series[6].metrics, 'top-level metrics are the latest day, not a sum')
  t.equal(body.work.metrics.likeCount, null)
  t.type(body.work.metrics.playCount, 'number', 'Pinterest reports video views as plays')
  t.match(body.work.extra, { dataStatus: 'READY' })
  const sent = sandbox.requests.at(-1)!.url
  t.match(sent, /since=2026-01-01T00%3A00%3A00\.000Z/, 'the +08:00 instant is sent as UTC')
  t.match(sent, /until=2026-01-07T00%3A00%3A00\.000Z/)
})

t.test('since after until, or without a zone, is refused before the call', async t => {
  const { sandbox, app } = await setup(t)
  const id = firstWork('acc-pinterest-1')
  const after = await app.inject({ url: analyticsUrl('pinterest', id, 'accountId=acc-pinterest-1&since=2026-01-08T00:00:00Z&until=2026-01-07T00:00:00Z') })
  t.equal(after.statusCode, 400)
  t.match(after.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'since' }] })
  const local = await app.inject({ url: analyticsUrl('pinterest', id, 'accountId=acc-pinterest-1&since=2026-01-01T00:00:00') })
  t.equal(local.statusCode, 400)
  t.equal(sandbox.count(), 0)
})

t.test('douyin, xhs, wxGzh have no work analytics on AiToEarn: 422 before any call', async t => {
  const { sandbox, app } = await setup(t)
  const video = DOUYIN_VIDEOS[0]!
  const cases: Array<[string, string, string]> = [['douyin', video.videoId, DOUYIN_ACCOUNT_ID], ['xhs', firstWork('acc-xhs-1'), 'acc-xhs-1'], ['wxGzh', firstWork('acc-wxgzh-1'), 'acc-wxgzh-1']]
  for (const [platform, id, account] of cases) {
    const res = await app.inject({ url: analyticsUrl(platform, id, `accountId=${account}`) })
    t.equal(res.statusCode, 422, platform)
    t.match(res.json(), { code: 'OPERATION_NOT_SUPPORTED', detail: /no work analytics/ })
  }
  t.equal(sandbox.count(), 0, 'AiToEarn was not asked: it would only say "Work analytics not supported"')
})

t.test('bilibili extras (coinCount, danmakuCount) land in extra', async t => {
  const { app } = await setup(t)
  const body = (await app.inject({ url: analyticsUrl('bilibili', firstWork('acc-bilibili-1'), 'accountId=acc-bilibili-1') })).json()
  t.type(body.work.extra.coinCount, 'number')
  t.type(body.work.extra.danmakuCount, 'number')
})

t.test('"Account required" is not a success', async t => {
  const { sandbox, app } = await setup(t)
  const missing = await app.inject({ url: analyticsUrl('tiktok', firstWork('acc-tiktok-1'), '') })
  t.equal(missing.statusCode, 400, 'our route requires accountId')
  t.equal(sandbox.count(), 0)

  // Should AiToEarn still answer "Account required" (code 0, no data), it is a problem, not an empty success.
  sandbox.addFault({ kind: 'body', times: 1, body: JSON.stringify({ code: 0, message: '请求成功', data: { platform: 'tiktok', platformWorkId: firstWork('acc-tiktok-1'), snapshots: [], message: 'Account required' } }) })
  const res = await app.inject({ url: analyticsUrl('tiktok', firstWork('acc-tiktok-1'), 'accountId=acc-tiktok-1') })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'VALIDATION_FAILED', detail: /Account required/, upstream: { code: 0, message: 'Account required' } })
})

t.test('"Work analytics not supported" from AiToEarn itself is a 422 too', async t => {
  const { sandbox, app } = await setup(t)
  const id = firstWork('acc-tiktok-1')
  sandbox.addFault({ kind: 'body', times: 1, body: JSON.stringify({ code: 0, message: '请求成功', data: { platform: 'tiktok', accountId: 'acc-tiktok-1', platformWorkId: id, snapshots: [], message: 'Work analytics not supported' } }) })
  const res = await app.inject({ url: analyticsUrl('tiktok', id, 'accountId=acc-tiktok-1') })
  t.equal(res.statusCode, 422)
  t.match(res.json(), { code: 'OPERATION_NOT_SUPPORTED', upstream: { code: 0, message: 'Work analytics not supported' } })
})

t.test('an unknown work: 404 where the platform says so, flagged where it answers zeros', async t => {
  const { app } = await setup(t)
  const youtube = await app.inject({ url: analyticsUrl('youtube', 'no-such-video', 'accountId=acc-youtube-1') })
  t.equal(youtube.statusCode, 404)
  t.match(youtube.json(), { code: 'NOT_FOUND', upstream: { code: 15079 } })
  // tiktok's provider finds no video and answers code 0 with zeros: no measurement, so no numbers.
  const tiktok = await app.inject({ url: analyticsUrl('tiktok', '1234', 'accountId=acc-tiktok-1') })
  t.equal(tiktok.statusCode, 200)
  const body = tiktok.json()
  t.equal(body.work.metricsReliable, false, 'flagged')
  t.ok(Object.values(body.work.metrics).every(v => v === null), 'its zeros are not shown as counts')
  t.same(body.series, [])
  const real = (await app.inject({ url: analyticsUrl('tiktok', firstWork('acc-tiktok-1'), 'accountId=acc-tiktok-1') })).json()
  t.notOk('metricsReliable' in real.work, 'a known work is not flagged')
})

t.test('a workId of ../../x%2Fy reaches AiToEarn as one encoded segment', async t => {
  const { sandbox, app } = await setup(t)
  const res = await app.inject({ url: analyticsUrl('youtube', '../../x%2Fy', 'accountId=acc-youtube-1') })
  t.equal(res.statusCode, 404, 'the upstream looked for a work with that very id')
  const sent = sandbox.requests.at(-1)!.url
  t.equal(sent, '/api/v2/channels/works/youtube/..%2F..%2Fx%252Fy/analytics?accountId=acc-youtube-1')

  for (const id of ['a?b#c', 'a/b', '%2e%2e']) {
    await app.inject({ url: analyticsUrl('youtube', id, 'accountId=acc-youtube-1') })
    t.equal(sandbox.requests.at(-1)!.url.split('/').length, 8, `${id}: still one segment`)
  }

  // Over real HTTP (inject and fetch resolve %2E segments themselves): dot segments are refused.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const client = new Client(`http://127.0.0.1:${port}`)
  t.teardown(() => client.close())
  for (const segment of ['%2E%2E', '%2E', '..%2F..']) {
    const before = sandbox.count()
    const res = await client.request({ method: 'GET', path: `/v1/works/youtube/${segment}/analytics?accountId=acc-youtube-1` })
    const body = await res.body.json() as { code: string }
    if (segment === '..%2F..') {
      t.equal(res.statusCode, 404, 'a dot segment inside a longer id is fine: one segment upstream')
      t.equal(sandbox.requests.at(-1)!.url, '/api/v2/channels/works/youtube/..%2F../analytics?accountId=acc-youtube-1')
    } else {
      t.equal(res.statusCode, 400, `${segment} is refused`)
      t.equal(body.code, 'VALIDATION_FAILED')
      t.equal(sandbox.count(), before, 'and never sent')
    }
  }
  const long = await app.inject({ url: analyticsUrl('tiktok', 'x'.repeat(257), 'accountId=acc-tiktok-1') })
  t.equal(long.statusCode, 400)
  const control = await app.inject({ url: analyticsUrl('tiktok', 'a\nb', 'accountId=acc-tiktok-1') })
  t.equal(control.statusCode, 400)
})
