import { test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { nextEvent } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'
import { stackApp, startSandboxes } from './helpers/stack.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

test('Redis stopped and restarted during a run of requests: no 5xx, the Douyin ceiling held, recovery without restart', async t => {
  const own = await OwnRedis.start()
  t.teardown(() => own.stop())
  const s = await startSandboxes(t, { qps: 10 })
  const app = await stackApp(t, s, {
    REDIS_URL: own.url,
    REDIS_KEY_PREFIX: 'bfftest:restart:',
    CACHE_LOCAL_TTL_MS: '0',
    // The daily API: each new page size is a Douyin call through the limiter, Redis or not.
    DOUYIN_SOURCE: 'daily',
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_DOUYIN_UNCACHED_MAX: '100000'
  })
  const yesterday = addDays(beijingToday(), -1)
  let n = 0
  // Each worker: two cached reads, then one Douyin query that misses the cache (a new page size).
  const next = (i: number) => i % 3 === 0
    ? `/v1/douyin/task-videos/daily?billingDate=${yesterday}&pageSize=${1 + (++n % 5000)}`
    : i % 3 === 1 ? '/v1/platforms' : '/v1/works/tiktok?accountId=acc-tiktok-1&limit=5'

  type Phase = 'before' | 'outage' | 'after'
  let phase = 'before' as Phase
  const log: Array<{ phase: Phase, url: string, res: LightMyRequestResponse }> = []
  const run = { on: true }
  let waiter: { phase: Phase, douyin: number, resolve: () => void } | undefined
  const douyinIn = (p: Phase) => log.filter(e => e.phase === p && e.url.includes('douyin')).length
  const worker = async () => {
    for (let i = 0; run.on; i++) {
      const url = next(i)
      const at = phase
      const res = await app.inject({ url })
      log.push({ phase: at, url, res })
      if (waiter && douyinIn(waiter.phase) >= waiter.douyin) { waiter.resolve(); waiter = undefined }
    }
  }
  const douyinAnswers = (p: Phase, count: number) => new Promise<void>(resolve => { waiter = { phase: p, douyin: count, resolve } })
  const workers = Array.from({ length: 4 }, worker)

  await douyinAnswers('before', 12)
  // Not events.once: it would reject on the client's 'error' event (EPIPE), which comes first.
  const closed = nextEvent(app.redis!, 'close')
  await own.stop()
  await closed
  phase = 'outage'
  await douyinAnswers('outage', 12)
  const ready = nextEvent(app.redis!, 'ready')
  await own.start()
  await ready
  phase = 'after'
  await douyinAnswers('after', 12)
  run.on = false
  await Promise.all(workers)

  const failed = log.filter(e => e.res.statusCode >= 500)
  t.same(failed.map(e => `${e.phase} ${e.url} ${e.res.statusCode} ${e.res.body.slice(0, 200)}`), [], 'no 5xx, before, during or after the outage')
  t.ok(log.every(e => e.res.statusCode === 200), 'every request answered 200')
  const stats = s.dy.stats()
  t.equal(stats.rateLimited, 0, 'Douyin never said "too many" (28003018)')
  t.ok(stats.maxPerSecond <= 10, `at most 10 Douyin calls in any second (saw ${stats.maxPerSecond})`)

  t.equal(app.cache.redisUp, true, 'the shared cache tier is back')
  t.equal(app.upstreams.douyinLimiter.stats.mode, 'shared', 'the Douyin ceiling is shared in Redis again')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready, without a restart')
  t.match((await app.inject({ url: '/metrics' })).body, /^bff_redis_up 1$/m, '/metrics says Redis is up')

  const outage = log.filter(e => e.phase === 'outage')
  t.comment(`requests: ${log.length} in all, ${outage.length} while Redis was down (${outage.filter(e => e.res.statusCode !== 200).length} failed); Douyin calls ${stats.dataRequests}, busiest second ${stats.maxPerSecond}`)
})
