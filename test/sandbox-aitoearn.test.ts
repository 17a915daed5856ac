import t from 'tap'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

interface Body { code: number, message: string, data: any, requestId?: string, timestamp?: number }

const sandbox = await startAitoearnSandbox()
t.teardown(() => sandbox.close())

async function get (path: string, headers: Record<string, string> = { 'x-api-key': SANDBOX_AITOEARN_API_KEY }): Promise<{ status: number, headers: Headers, body: Body }> {
  const res = await fetch(`${sandbox.url}${path}`, { headers })
  return { status: res.status, headers: res.headers, body: await res.json() as Body }
}

t.test('platforms are keyless and carry capabilities', async t => {
  const { status, body } = await get('/api/v2/channels/platforms', {})
  t.equal(status, 200)
  t.equal(body.code, 0)
  const tiktok = body.data.find((p: any) => p.platform === 'tiktok')
  t.same(tiktok.capabilities.work.listWorksPagination, { mode: 'cursor', defaultLimit: 20, maxLimit: 20, supportsPrevious: false })
  t.equal(body.data.find((p: any) => p.platform === 'douyin').capabilities.work.listWorks, false)
  t.equal(body.data.find((p: any) => p.platform === 'wxGzh').capabilities.analytics.work, false)
})

t.test('business errors are HTTP 200 with a code, the request id echoed, messages localized', async t => {
  const noKey = await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1', { 'x-request-id': 'sbx-test-1' })
  t.equal(noKey.status, 200)
  t.equal(noKey.body.code, 401)
  t.equal(noKey.body.requestId, 'sbx-test-1')
  t.equal(noKey.headers.get('x-request-id'), 'sbx-test-1')
  t.type(noKey.body.timestamp, 'number')

  const douyin = await get(`/api/v2/channels/works/douyin?accountId=${DOUYIN_ACCOUNT_ID}`, { 'x-api-key': SANDBOX_AITOEARN_API_KEY, 'accept-language': 'zh-CN' })
  t.equal(douyin.body.code, 15080)
  t.same(douyin.body.data, { platform: 'douyin', capability: 'work.listWorks' })
  t.equal(douyin.body.message, 'douyin 不支持该操作')

  t.equal((await get('/api/v2/channels/works/tiktok?accountId=nobody')).body.code, 12600)
  t.equal((await get('/api/v2/channels/works/youtube?accountId=acc-tiktok-1')).body.code, 15040)
  t.equal((await get('/api/v2/channels/works/TikTok?accountId=acc-tiktok-1')).body.code, 10002)
})

t.test('pagination: bracket form only, per-platform limits and modes', async t => {
  const json = await get(`/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&pagination=${encodeURIComponent('{"limit":5}')}`)
  t.equal(json.body.code, 10002, 'a JSON string is rejected')
  const bare = await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&limit=5')
  t.equal(bare.body.code, 0)
  t.equal(bare.body.data.items.length, 20, 'a bare limit is ignored: the platform default applies')
  t.equal((await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&pagination[limit]=21')).body.code, 15089)
  t.equal((await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&pagination[page]=1&pagination[pageSize]=10')).body.code, 15088)
  t.equal((await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&pagination[direction]=previous')).body.code, 15091)
  const encoded = await get('/api/v2/channels/works/youtube?accountId=acc-youtube-1&pagination%5Blimit%5D=7')
  t.equal(encoded.body.data.items.length, 7, 'percent-encoded brackets work as qs decodes keys')
})

t.test('KWAI ends with an empty page; absent metrics are absent from the JSON', async t => {
  const pages: number[] = []
  let cursor: string | undefined
  for (let i = 0; i < 5; i++) {
    const { body } = await get(`/api/v2/channels/works/KWAI?accountId=acc-kwai-1&pagination[limit]=20${cursor ? `&pagination[cursor]=${encodeURIComponent(cursor)}` : ''}`)
    pages.push(body.data.items.length)
    if (!body.data.pagination.hasNext) break
    cursor = body.data.pagination.nextCursor
  }
  t.same(pages, [20, 20, 0])

  const { body } = await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&pagination[limit]=3')
  t.same(Object.keys(body.data.items[0].metrics).sort(), ['commentCount', 'likeCount', 'shareCount', 'viewCount'])
})

t.test('analytics: account required, unsupported, snapshots counted, raw url recorded', async t => {
  const required = await get('/api/v2/channels/works/tiktok/123/analytics')
  t.equal(required.body.code, 0)
  t.same(required.body.data.snapshots, [])
  t.equal(required.body.data.message, 'Account required')

  const gzh = await get('/api/v2/channels/works/wxGzh/x/analytics?accountId=acc-wxgzh-1')
  t.equal(gzh.body.data.message, 'Work analytics not supported')

  const before = sandbox.snapshotsSaved()
  const video = DOUYIN_VIDEOS[0]!
  const douyin = await get(`/api/v2/channels/works/douyin/${video.videoId}/analytics?accountId=${DOUYIN_ACCOUNT_ID}`)
  t.equal(douyin.body.code, 0)
  t.equal(douyin.body.data.platformWorkId, '7270855478333246754')
  t.match(douyin.body.data.extra, { dataId: video.videoId, uniqueId: video.douyinId })
  t.equal(sandbox.snapshotsSaved(), before + 1)

  const pins = await get('/api/v2/channels/works/pinterest/x/analytics?accountId=acc-pinterest-1')
  t.equal(pins.body.code, 15079)

  await get('/api/v2/channels/works/tiktok/..%2Fa%252Fb/analytics?accountId=acc-tiktok-1')
  t.ok(sandbox.requests.some(r => r.url.startsWith('/api/v2/channels/works/tiktok/..%2Fa%252Fb/analytics')), 'the raw, still-encoded target is recorded')
})

t.test('faults and stats are controllable over HTTP', async t => {
  let res = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: 'status', status: 503, times: 1 }) })
  t.equal(res.status, 201)
  res = await fetch(`${sandbox.url}/api/v2/channels/platforms`)
  t.equal(res.status, 503)
  await res.arrayBuffer()
  res = await fetch(`${sandbox.url}/api/v2/channels/platforms`)
  t.equal(res.status, 200, 'the fault applied once')
  await res.arrayBuffer()
  const stats = await (await fetch(`${sandbox.url}/__sandbox/stats`)).json() as { snapshotsSaved: number }
  t.equal(stats.snapshotsSaved, sandbox.snapshotsSaved())
})
