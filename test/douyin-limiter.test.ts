import { test } from 'tap'
import pino from 'pino'
import { QueueingLimiter } from '../src/upstream/limiter/queue.js'
import { HttpProblem } from '../src/errors.js'
import { mostInWindow } from './helpers/windows.js'
import { buildApp } from './helpers/app.js'
import { startDouyinSandbox } from '../src/sandbox/douyin/server.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

/** The limiter as it runs without Redis: in process, at `rate` per second + the arrival margin. */
const localLimiter = (rate: number) => new QueueingLimiter({
  name: 'douyin', shared: null, limit: rate, fallbackLimit: rate, windowMs: 1025, maxQueue: 1000, horizonMs: 50, lateMs: 25, log: pino({ level: 'silent' })
})

test('local limiter: never more than `rate` admissions in a sliding second, first come first served', async t => {
  const limiter = localLimiter(10)
  const admitted: Array<{ i: number, at: number }> = []
  await Promise.all(Array.from({ length: 25 }, (_, i) =>
    limiter.acquire({ deadline: Date.now() + 10_000 }).then(() => { admitted.push({ i, at: Date.now() }) })))
  t.equal(admitted.length, 25)
  t.ok(mostInWindow(admitted.map(a => a.at), 1000) <= 10, 'at most 10 in any second')
  t.same(admitted.slice(0, 10).map(a => a.i).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i), 'the first ten come first')
})

test('local limiter: a slot beyond the deadline is refused at once with 503 and Retry-After; cooldown pauses', async t => {
  const limiter = localLimiter(2)
  await limiter.acquire({ deadline: Date.now() + 5000 })
  await limiter.acquire({ deadline: Date.now() + 5000 })
  const err = await limiter.acquire({ deadline: Date.now() + 200 }).then(() => undefined, (e: unknown) => e as HttpProblem)
  t.ok(err instanceof HttpProblem)
  t.equal(err?.code, 'UPSTREAM_RATE_LIMITED')
  t.equal(err?.status, 503)
  t.ok((err?.retryAfter ?? 0) >= 1)

  const paused = localLimiter(10)
  await paused.cooldown(60_000)
  const cooled = await paused.acquire({ deadline: Date.now() + 1000 }).then(() => undefined, (e: unknown) => e as HttpProblem)
  t.equal(cooled?.code, 'UPSTREAM_RATE_LIMITED')
  t.ok((cooled?.retryAfter ?? 0) >= 59, 'Retry-After covers the cooldown')
})

test('the route keeps under the sandbox 10 QPS: many pages, no 28003018', async t => {
  const sandbox = await startDouyinSandbox()
  t.teardown(() => sandbox.close())
  const app = await buildApp(t, { DOUYIN_BASE_URL: sandbox.url, DOUYIN_SOURCE: 'daily', DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY, DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET })
  const today = beijingToday()
  const res = await app.inject({ method: 'GET', url: `/v1/douyin/task-videos/daily?all=true&pageSize=1&billingDateFrom=${addDays(today, -2)}&billingDateTo=${addDays(today, -1)}` })
  t.equal(res.statusCode, 200)
  const stats = sandbox.stats()
  t.ok(stats.dataRequests > 15, `${stats.dataRequests} data requests`)
  t.equal(stats.rateLimited, 0, 'no 28003018')
  t.ok(stats.maxPerSecond <= 10, `at most 10 in any second (saw ${stats.maxPerSecond})`)
})
