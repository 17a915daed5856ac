/**
 * What the read services guarantee, over real HTTP against the sandboxes: every HTTP attempt to
 * Douyin (retries included) takes a limiter slot, the caller's budget follows the request object
 * (not its id) and every page, and a fill whose body breaks its schema is a 502 never stored.
 */
import { test } from 'tap'
import { sandboxEnv, stackApp, startSandboxes } from './helpers/stack.js'
import { startService } from './helpers/process.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const day = (n: number) => addDays(beijingToday(), -n)
const daily = (query: string) => `/v1/douyin/task-videos/daily?${query}`
/** Every taskbox API path (daily data, bill link, task totals). */
const TASKBOX = '/api/match/v2/taskbox/'

test('retries take their own limiter slot: Douyin never sees more than 10 in a second, faulted attempts included', async t => {
  const s = await startSandboxes(t)
  // The service as its own process: arrivals are then timed by the sandbox's event loop alone, as
  // Douyin times them at its gate (in one process, a stall of the shared loop moved them together).
  const svc = await startService({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SANDBOX: 'false', ...sandboxEnv(s), RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0', REQUEST_DEADLINE_MS: '20000' })
  t.teardown(() => svc.stop('SIGKILL'))
  // The first attempt of each of 15 requests fails with a 503 from in front of Douyin; each is
  // retried. Whichever taskbox API serves them (the bill link by default).
  s.dy.addFault({ kind: 'status', status: 503, path: TASKBOX, times: 15 })
  const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => fetch(`${svc.url}${daily(`billingDate=${day(i + 1)}`)}`)))
  t.same(answers.map(a => a.status), answers.map(() => 200), 'every request answered after its retry')
  const stats = s.dy.stats()
  t.equal(stats.dataRequests, 30, '15 faulted attempts and 15 retries arrived')
  t.ok(stats.maxPerSecond <= 10, `at most 10 arrivals in any second, faulted ones counted (saw ${stats.maxPerSecond})`)
  t.equal(stats.rateLimited, 0, 'no 28003018')
  const metrics = await (await fetch(`${svc.url}/metrics`)).text()
  t.equal(Number(/^bff_douyin_limiter_admitted_total (\d+)$/m.exec(metrics)?.[1]), stats.dataRequests, 'the limiter admitted exactly what Douyin saw')
})

test('the uncached-Douyin budget follows each request, whatever its x-request-id', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { RATE_LIMIT_DOUYIN_UNCACHED_MAX: '4', RATE_LIMIT_WINDOW_S: '86400' })
  const headers = { 'x-request-id': 'shared-id-1' }
  const range = (from: number, to: number) => daily(`billingDateFrom=${day(from)}&billingDateTo=${day(to)}`)
  // Eight uncached dates on a budget of four, while another request carries the same id.
  const [eight] = await Promise.all([app.inject({ url: range(8, 1), headers }), app.inject({ url: '/v1/platforms', headers })])
  t.equal(eight.statusCode, 429, 'eight uncached queries on a budget of four: refused, even with another request on the same id')
  t.equal(eight.json().code, 'RATE_LIMITED')
  t.ok(Number(eight.headers['retry-after']) >= 1, 'with Retry-After')

  const other = await stackApp(t, s, { RATE_LIMIT_DOUYIN_UNCACHED_MAX: '4', RATE_LIMIT_WINDOW_S: '86400' })
  t.equal((await other.inject({ url: range(13, 11), headers })).statusCode, 200, 'three dates: charged three')
  const second = await other.inject({ url: range(16, 14), headers })
  t.equal(second.statusCode, 429, 'a second request with the same id and three more dates is charged too: refused')
})

test('all=true is charged per upstream page', async t => {
  const s = await startSandboxes(t)
  const walk = daily(`billingDate=${day(1)}&all=true&pageSize=1`)
  // Pages are the daily API's (the bill is one file per date). Budget windows are fixed (aligned
  // to the clock): a walk that straddles a boundary would be charged in two, so a day-long window.
  const env = { DOUYIN_SOURCE: 'daily', RATE_LIMIT_WINDOW_S: '86400' }
  const counted = await stackApp(t, s, { ...env, RATE_LIMIT_DOUYIN_UNCACHED_MAX: '1000' })
  t.equal((await counted.inject({ url: walk })).statusCode, 200)
  // Pages, not calls: a page Douyin answered 28003018 is tried again, and the retry is not charged.
  const pages = s.dy.stats().dataRequests - s.dy.stats().rateLimited
  t.ok(pages >= 3, `the walk took ${pages} pages`)

  const exact = await stackApp(t, s, { ...env, RATE_LIMIT_DOUYIN_UNCACHED_MAX: String(pages) })
  t.equal((await exact.inject({ url: walk })).statusCode, 200, `a budget of ${pages} covers the ${pages} pages`)
  t.equal((await exact.inject({ url: daily(`billingDate=${day(2)}`) })).statusCode, 429, '...and nothing more')

  const short = await stackApp(t, s, { ...env, RATE_LIMIT_DOUYIN_UNCACHED_MAX: String(pages - 1) })
  const refused = await short.inject({ url: walk })
  t.equal(refused.statusCode, 429, `a budget of ${pages - 1} does not`)
  t.ok(Number(refused.headers['retry-after']) >= 1)
})

test('a body that passes the upstream check but breaks the response schema: 502, nothing stored', async t => {
  const s = await startSandboxes(t)
  const app = await stackApp(t, s)
  const url = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=2'
  // A negative count is a number (the upstream schema takes it) but no count (ours refuses it).
  const body = JSON.stringify({
    code: 0,
    message: '请求成功',
    data: {
      platform: 'tiktok',
      items: [{ platformWorkId: '7401234567890123456', contentMode: 'video', metrics: { viewCount: 10, likeCount: -5 } }],
      pagination: { mode: 'cursor', hasNext: false }
    }
  })
  s.ai.addFault({ kind: 'body', path: '/api/v2/channels/works/tiktok', body, times: 1 })
  const bad = await app.inject({ url })
  t.equal(bad.statusCode, 502)
  t.equal(bad.json().code, 'UPSTREAM_BAD_RESPONSE')
  t.match(bad.json().detail, /likeCount/)
  const next = await app.inject({ url })
  t.equal(next.statusCode, 200, 'the next request is answered from the upstream...')
  t.match(next.headers['cache-status'], /fwd=miss/, '...because nothing was cached')
})
