import { test } from 'tap'
import { startDouyinSandbox, DAILY_DATA_PATH, STABLE_TOKEN_PATH, TOKEN_PATH, type DouyinSandbox } from '../src/sandbox/douyin/server.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday, beijingMidnight } from '../src/sandbox/seed.js'

type Tap = { teardown: (fn: () => unknown) => void }

async function sandbox (t: Tap, opts: Parameters<typeof startDouyinSandbox>[0] = {}): Promise<DouyinSandbox> {
  const s = await startDouyinSandbox(opts)
  t.teardown(() => s.close())
  return s
}

async function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, text: string, json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, text, json: JSON.parse(text) }
}

const creds = { client_key: SANDBOX_DOUYIN_CLIENT_KEY, client_secret: SANDBOX_DOUYIN_CLIENT_SECRET, grant_type: 'client_credential' }

async function token (s: DouyinSandbox, path = TOKEN_PATH): Promise<string> {
  const res = await post(s.url + path, creds)
  return res.json.data.access_token
}

/** A valid query: yesterday's billing date, the 30 days up to it. */
function query (extra: Record<string, unknown> = {}) {
  const today = beijingToday()
  const end = beijingMidnight(today) - 1
  return { billing_date: new Date((end + 8 * 3600) * 1000).toISOString().slice(0, 10), page_num: 1, page_size: 100, video_publish_start_time: end - 30 * 86400 + 1, video_publish_end_time: end, ...extra }
}

test('token endpoints: errors in data.error_code, stable returns the same token, expires_in', async t => {
  const s = await sandbox(t, { tokenTtlSeconds: 3600 })
  const bad = await post(s.url + TOKEN_PATH, { ...creds, client_secret: 'wrong' })
  t.equal(bad.status, 200)
  t.equal(bad.json.data.error_code, 10013)
  t.equal((await post(s.url + TOKEN_PATH, { ...creds, client_key: 'nope' })).json.data.error_code, 10003)
  t.equal((await post(s.url + TOKEN_PATH, { client_key: 'x' })).json.data.error_code, 10002)
  t.equal((await post(s.url + TOKEN_PATH, 'not json')).json.data.error_code, 10002)

  const ok = await post(s.url + STABLE_TOKEN_PATH, creds)
  t.equal(ok.json.data.error_code, 0)
  t.equal(ok.json.data.expires_in, 3600)
  const again = await post(s.url + STABLE_TOKEN_PATH, creds)
  t.equal(again.json.data.access_token, ok.json.data.access_token, 'stable: same token while valid')
  t.equal(s.stats().tokensIssued, 1)
  t.equal(s.stats().tokenCalls, 6)
  const fresh = await post(s.url + TOKEN_PATH, creds)
  t.not(fresh.json.data.access_token, ok.json.data.access_token, 'client_token: a new token each call')
  t.equal(s.stats().tokensIssued, 2)
})

test('only the newest two tokens are valid; an expired token answers 28001008', async t => {
  const s = await sandbox(t)
  const first = await token(s)
  const second = await token(s)
  const call = async (tok: string) => (await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })).json.err_no
  t.equal(await call(first), 0, 'the older of two is still valid')
  const third = await token(s)
  t.equal(await call(first), 28001003, 'the third-newest is invalid')
  t.equal(await call(second), 0)
  t.equal(await call(third), 0)
  t.equal(await call('made-up'), 28001003)
  s.expireTokens()
  t.equal(await call(third), 28001008)
  const renewed = await token(s, STABLE_TOKEN_PATH)
  t.not(renewed, third, 'stable issues a new token once the old one expired')
  t.equal(await call(renewed), 0)
})

test('more than 10 data requests in one second answer 28003018, counted in the stats', async t => {
  const s = await sandbox(t)
  const tok = await token(s)
  const answers = await Promise.all(Array.from({ length: 13 }, () => post(s.url + DAILY_DATA_PATH, query({ page_size: 1 }), { 'access-token': tok })))
  const codes = answers.map(a => a.json.err_no)
  t.equal(codes.filter(c => c === 0).length, 10, 'ten admitted')
  t.equal(codes.filter(c => c === 28003018).length, 3, 'the rest refused')
  t.ok(answers.every(a => a.status === 200 && typeof a.json.log_id === 'string' && a.json.log_id.length > 0), 'HTTP 200 and a log_id in every answer')
  const stats = await (await fetch(`${s.url}/__sandbox/stats`)).json() as Record<string, number>
  t.equal(stats.rateLimited, 3)
  t.equal(stats.maxPerSecond, 13)
  t.equal(stats.dataRequests, 13)
})

test('ids go out as raw 19-digit JSON integers that JSON.parse would round; both spellings', async t => {
  const s = await sandbox(t)
  const tok = await token(s)
  const res = await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })
  t.match(res.text, /"VideoId":7270855478333246754[,}]/, 'raw digits on the wire')
  t.match(res.text, /"TaskId":7270785143852253697[,}]/)
  const rows = res.json.data.video_daily_data_list as Array<Record<string, unknown>>
  const rounded = rows.find(r => String(r.VideoId).startsWith('72708554783332'))
  t.ok(rounded, 'the docs video is there')
  t.not(String(rounded!.VideoId), '7270855478333246754', 'JSON.parse rounds it')
  t.ok(rows.every(r => Number.isInteger(r.GMV1d)), 'money as integers')
  t.notOk('total' in res.json.data, 'no total')

  await fetch(`${s.url}/__sandbox/spelling`, { method: 'POST', body: '{"spelling":"snake"}' })
  const snake = await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })
  t.match(snake.text, /"video_id":7270855478333246754[,}]/)
  t.match(snake.text, /"gmv_1d":\d+/)
})

test('parameter checks answer the documented err_no', async t => {
  const s = await sandbox(t, { qps: 1000 })
  const tok = await token(s)
  const errNo = async (body: unknown) => (await post(s.url + DAILY_DATA_PATH, body, { 'access-token': tok })).json.err_no
  const q = query()
  t.equal(await errNo(query({ billing_date: '2024-02-30' })), 28001007, 'not a calendar date')
  t.equal(await errNo(query({ billing_date: '20240201' })), 28001007, 'wrong format')
  t.equal(await errNo(query({ page_size: 10001 })), 28013010)
  t.equal(await errNo(query({ page_num: 0 })), 28001007)
  t.equal(await errNo(query({ video_publish_start_time: q.video_publish_end_time - 31 * 86400 })), 28001007, 'window over 30 days')
  t.equal(await errNo(query({ video_publish_end_time: q.video_publish_start_time - 1 })), 28001007, 'end before start')
  const old = Math.floor(Date.now() / 1000) - 91 * 86400
  t.equal(await errNo(query({ video_publish_start_time: old, video_publish_end_time: old + 86400 })), 28013009)
  t.equal(await errNo('{"billing_date":'), 28001007, 'not JSON')
  t.equal(await errNo(query({ douyin_id: 5 })), 28001007)
})

test('paging without totals; filters; forced errors; faults; request log', async t => {
  const s = await sandbox(t, { qps: 1000 })
  const tok = await token(s)
  const page = async (n: number, extra: Record<string, unknown> = {}) =>
    (await post(s.url + DAILY_DATA_PATH, query({ page_num: n, page_size: 4, ...extra }), { 'access-token': tok })).json.data.video_daily_data_list as unknown[]
  const all: unknown[] = []
  for (let n = 1; ; n++) {
    const rows = await page(n)
    all.push(...rows)
    if (rows.length < 4) break
  }
  t.ok(all.length > 4, `several pages (${all.length} rows)`)
  const one = await page(1, { douyin_id: 'A79322340', page_size: 100 })
  t.ok(one.length > 0 && one.every(r => (r as { DouyinID: string }).DouyinID === 'A79322340'), 'douyin_id filters')

  s.forceError(28001018, 2)
  const forced = await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })
  t.equal(forced.json.err_no, 28001018)
  await fetch(`${s.url}/__sandbox/force-error`, { method: 'POST', body: '{"errNo":12345678}' })
  t.equal((await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })).json.err_no, 28001018, 'the second forced 28001018')
  t.equal((await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })).json.err_no, 12345678)
  t.equal((await post(s.url + DAILY_DATA_PATH, query(), { 'access-token': tok })).json.err_no, 0, 'then back to normal')

  await fetch(`${s.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: 'status', status: 503, times: 1 }) })
  const faulted = await fetch(s.url + DAILY_DATA_PATH, { method: 'POST', body: JSON.stringify(query()), headers: { 'access-token': tok } })
  t.equal(faulted.status, 503)
  await faulted.text()
  t.ok(s.count(DAILY_DATA_PATH) >= 8, 'requests recorded')
  t.ok(s.requests.every(r => !r.url.startsWith('/__sandbox')), 'control requests are not recorded')
})
