import { test } from 'tap'
import { buildApp } from './helpers/app.js'
import { startDouyinSandbox, DAILY_DATA_PATH } from '../src/sandbox/douyin/server.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

test('Douyin answers are cached whole, and per billing date underneath', async t => {
  const sandbox = await startDouyinSandbox()
  t.teardown(() => sandbox.close())
  const app = await buildApp(t, { DOUYIN_BASE_URL: sandbox.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY, DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET })
  const today = beijingToday()
  const get = (query: string) => app.inject({ url: `/v1/douyin/task-videos/daily?${query}` })

  const range = await get(`billingDateFrom=${addDays(today, -7)}&billingDateTo=${addDays(today, -1)}`)
  t.equal(range.statusCode, 200)
  const calls = sandbox.count(DAILY_DATA_PATH)
  t.equal(calls, 7, 'one upstream query per billing date')

  const again = await get(`billingDateFrom=${addDays(today, -7)}&billingDateTo=${addDays(today, -1)}`)
  t.match(again.headers['cache-status'], /; hit;/)
  t.equal(again.body, range.body)

  const oneDay = await get(`billingDate=${addDays(today, -3)}`)
  t.equal(oneDay.statusCode, 200)
  t.match(oneDay.headers['cache-status'], /fwd=miss/, 'a new answer...')
  t.equal(sandbox.count(DAILY_DATA_PATH), calls, '...made of the cached query for that date: no upstream call')

  const wider = await get(`billingDateFrom=${addDays(today, -8)}&billingDateTo=${addDays(today, -1)}`)
  t.equal(wider.statusCode, 200)
  t.equal(sandbox.count(DAILY_DATA_PATH), calls + 1, 'a new day costs one new call, not eight')

  const settled = await get(`billingDate=${addDays(today, -5)}`)
  const recent = await get(`billingDate=${addDays(today, -1)}`)
  t.match(settled.headers['cache-control'], /max-age=4[0-9]{4}/, 'settled dates are kept 12 h')
  t.match(recent.headers['cache-control'], /max-age=[0-9]{3},/, 'recent dates 10 min')
})
