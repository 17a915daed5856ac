/**
 * The sandbox AiToEarn answers as the real server does (its source, as cited in
 * src/sandbox/aitoearn/): envelopes, request ids, codes and the order of its checks.
 */
import t from 'tap'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { DOUYIN_ACCOUNT_ID, SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

interface Body { code: number, message: string, data: any, requestId?: string, timestamp?: number }

const sandbox = await startAitoearnSandbox()
t.teardown(() => sandbox.close())
const KEY = { 'x-api-key': SANDBOX_AITOEARN_API_KEY }

async function get (path: string, headers: Record<string, string> = KEY): Promise<{ status: number, headers: Headers, body: Body }> {
  const res = await fetch(`${sandbox.url}${path}`, { headers })
  return { status: res.status, headers: res.headers, body: await res.json() as Body }
}
const works = (platform: string, query: string) => get(`/api/v2/channels/works/${platform}?${query}`)

t.test('the platform list: a bare array, display names as objects, capabilities as the registry computes them', async t => {
  const { status, body } = await get('/api/v2/channels/platforms', {})
  t.equal(status, 200)
  t.equal(body.code, 0)
  t.ok(Array.isArray(body.data))
  const by = Object.fromEntries(body.data.map((p: any) => [p.platform, p]))
  t.same(by.tiktok.capabilities.work.listWorksPagination, { mode: 'cursor', defaultLimit: 20, maxLimit: 20, supportsPrevious: false })
  t.same(by.youtube.displayName, { 'en-US': 'YouTube', 'zh-CN': 'YouTube' })
  t.same(by.douyin.capabilities.analytics, { account: false, work: true }, 'douyin: work analytics claimed, none served (platforms.registry.ts)')
  t.same(by.xhs.capabilities.analytics, { account: false, work: true })
  t.same(by.wxGzh.capabilities.analytics, { account: false, work: false }, 'coming_soon: every capability false')
  t.equal(by.wxGzh.status, 'coming_soon')
  t.equal(by.google_business, undefined, 'hidden: not listed')
  t.equal((await get('/api/v2/channels/platforms', { 'x-api-key': 'not-the-key' })).body.code, 401, 'a wrong key is refused even on this public route')
})

t.test('envelopes: success always 请求成功 without timestamp; errors localized with timestamp; HTTP 200 throughout', async t => {
  const ok = await works('tiktok', 'accountId=acc-tiktok-1')
  t.equal(ok.status, 200)
  t.equal(ok.body.message, '请求成功')
  t.notOk('timestamp' in ok.body)
  const zh = await fetch(`${sandbox.url}/api/v2/channels/works/tiktok?accountId=acc-tiktok-1`, { headers: { ...KEY, 'accept-language': 'zh-CN' } })
  t.equal(((await zh.json()) as Body).message, '请求成功', 'in every language')

  const douyin = await fetch(`${sandbox.url}/api/v2/channels/works/douyin?accountId=${DOUYIN_ACCOUNT_ID}`, { headers: { ...KEY, 'accept-language': 'zh-CN' } })
  const body = await douyin.json() as Body
  t.equal(douyin.status, 200)
  t.equal(body.code, 15080)
  t.same(body.data, { platform: 'douyin', capability: 'work.listWorks' })
  t.equal(body.message, 'douyin 不支持该操作')
  t.type(body.timestamp, 'number')
})

t.test('request ids: ours echoed; without one the server makes its own (libs/common/src/starter.ts)', async t => {
  const given = await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1', { ...KEY, 'x-request-id': 'sbx-test-1' })
  t.equal(given.body.requestId, 'sbx-test-1')
  t.equal(given.headers.get('x-request-id'), 'sbx-test-1')
  const made = await get('/api/v2/channels/works/tiktok?accountId=acc-tiktok-1')
  t.match(made.body.requestId, /^[0-9a-z]{21}$/)
  t.equal(made.headers.get('x-request-id'), made.body.requestId)
})

t.test('every validation failure is code 400 "Validation failed", data {}, HTTP 200 (exception.util.ts)', async t => {
  for (const query of [
    'accountId=acc-tiktok-1&pagination=' + encodeURIComponent('{"limit":5}'),
    'accountId=acc-tiktok-1&pagination[limit]=0',
    'accountId=acc-tiktok-1&pagination[page]=1',
    'accountId=acc-tiktok-1&pagination[direction]=previous',
    'accountId=acc-tiktok-1&pagination[foo]=1',
    ''
  ]) {
    const res = await works('tiktok', query)
    t.equal(res.status, 200)
    t.match(res.body, { code: 400, message: 'Validation failed', data: {} }, query || '(no accountId)')
  }
  t.equal((await works('TikTok', 'accountId=acc-tiktok-1')).body.code, 400, 'platform ids are case-sensitive')
  t.equal((await get('/api/v2/channels/works/pinterest/x/analytics?accountId=acc-pinterest-1&since=someday')).body.code, 400, 'a bad date')
  t.equal((await get('/api/v2/channels/works/tiktok/x/analytics?accountId=')).body.code, 400, 'an empty accountId')
})

t.test('listWorks checks in the server\'s order: 15080, then pagination, then the account', async t => {
  t.equal((await works('douyin', 'accountId=nobody&pagination[limit]=999')).body.code, 15080, 'no listing comes first')
  t.equal((await works('tiktok', 'accountId=nobody&pagination[limit]=21')).body.code, 15089, 'the limit before the account')
  t.equal((await works('tiktok', 'accountId=nobody&pagination[page]=1&pagination[pageSize]=5')).body.code, 15088)
  t.equal((await works('tiktok', 'accountId=nobody&pagination[cursor]=x&pagination[direction]=previous')).body.code, 15091)
  t.equal((await works('tiktok', 'accountId=nobody')).body.code, 12600)
  t.equal((await works('youtube', 'accountId=acc-tiktok-1')).body.code, 15040)
  t.equal((await works('google_business', 'accountId=x')).body.code, 15032, 'a hidden platform')
  t.equal((await works('instagram', 'accountId=acc-reconnect-1')).body.code, 15001, 'an account marked abnormal')
  t.match((await works('youtube', 'accountId=acc-nocred-1')).body, { code: 15006, data: { accountId: 'acc-nocred-1' } })
  const bare = await works('tiktok', 'accountId=acc-tiktok-1&limit=5')
  t.equal(bare.body.data.items.length, 20, 'a bare limit is ignored: the platform default applies')
  const encoded = await works('youtube', 'accountId=acc-youtube-1&pagination%5Blimit%5D=7')
  t.equal(encoded.body.data.items.length, 7, 'percent-encoded brackets work as qs decodes keys')
})

t.test('KWAI decides hasNext by the page size: a full last page is followed by an empty one', async t => {
  const pages: number[] = []
  let cursor: string | undefined
  for (let i = 0; i < 5; i++) {
    const { body } = await works('KWAI', `accountId=acc-kwai-1&pagination[limit]=20${cursor ? `&pagination[cursor]=${encodeURIComponent(cursor)}` : ''}`)
    pages.push(body.data.items.length)
    if (!body.data.pagination.hasNext) break
    cursor = body.data.pagination.nextCursor
  }
  t.same(pages, [20, 20, 0])
})

t.test('analytics in the server\'s order: account required, the account, hidden, no provider, then the provider', async t => {
  const required = await get('/api/v2/channels/works/tiktok/123/analytics')
  t.match(required.body, { code: 0, data: { platform: 'tiktok', platformWorkId: '123', snapshots: [], message: 'Account required' } })
  t.notOk('accountId' in required.body.data)
  t.equal((await get('/api/v2/channels/works/douyin/x/analytics?accountId=nobody')).body.code, 12600, 'the account before "not supported"')
  const gzh = await get('/api/v2/channels/works/wxGzh/x/analytics?accountId=acc-wxgzh-1')
  t.match(gzh.body.data, { accountId: 'acc-wxgzh-1', message: 'Work analytics not supported' })
  const before = sandbox.snapshotsSaved()
  const pins = await get('/api/v2/channels/works/pinterest/x/analytics?accountId=acc-pinterest-1')
  t.match(pins.body, { code: 15070, data: { platform: 'pinterest', category: 'not_found', retryable: false, httpStatus: 404 } }, 'a platform error carries its class')
  t.equal(sandbox.snapshotsSaved(), before, 'nothing saved for a failure')
  t.equal((await get('/api/v2/channels/works/youtube/x/analytics?accountId=acc-nocred-1')).body.code, 15006, 'credentials are checked for a provider')

  await get('/api/v2/channels/works/tiktok/..%2Fa%252Fb/analytics?accountId=acc-tiktok-1')
  t.ok(sandbox.requests.some(r => r.url.startsWith('/api/v2/channels/works/tiktok/..%2Fa%252Fb/analytics')), 'the raw, still-encoded target is recorded')
})

t.test('Pinterest reads since/until (default the 30 days to now); the others ignore them', async t => {
  const id = (await works('pinterest', 'accountId=acc-pinterest-1')).body.data.items[0].platformWorkId
  const week = await get(`/api/v2/channels/works/pinterest/${id}/analytics?accountId=acc-pinterest-1&since=2026-01-01T00:00:00Z&until=2026-01-07T00:00:00Z`)
  t.equal(week.body.data.snapshots.length, 7)
  const tiktokId = (await works('tiktok', 'accountId=acc-tiktok-1')).body.data.items[0].platformWorkId
  const lifetime = await get(`/api/v2/channels/works/tiktok/${tiktokId}/analytics?accountId=acc-tiktok-1&since=2026-01-01T00:00:00Z&until=2026-01-07T00:00:00Z`)
  t.equal(lifetime.body.data.snapshots.length, 1, 'one lifetime snapshot, whatever the window')
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
