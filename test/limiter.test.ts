import { randomBytes } from 'node:crypto'
import { test } from 'tap'
import pino from 'pino'
import type { Redis } from 'ioredis'
import { QueueingLimiter } from '../src/upstream/limiter/queue.js'
import { RedisReserver } from '../src/upstream/limiter/redis-reserver.js'
import { HttpProblem } from '../src/errors.js'
import { REDIS_URL, connectedRedis as connected, testRedis, nextEvent } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'
import { mostInWindow } from './helpers/windows.js'

const log = pino({ level: 'silent' })
// Send times are sums of floats: two exactly a window apart may differ by a hair less.
const EPSILON = 1e-6

function limiter (redis: Redis | null, over: { limit: number, windowMs: number, fallbackLimit?: number, name?: string }) {
  const name = over.name ?? 'douyin'
  return new QueueingLimiter({
    name,
    shared: redis ? new RedisReserver(redis, name, over.limit, over.windowMs, randomBytes(4).toString('hex')) : null,
    limit: over.limit,
    fallbackLimit: over.fallbackLimit ?? 1,
    windowMs: over.windowMs,
    maxQueue: 1000,
    horizonMs: 20,
    lateMs: 25,
    log
  })
}

test('three instances over one Redis never exceed the ceiling together, and all get served', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  // Scaled down: 5 per 200 ms; the limiter's window carries a 15 ms safety margin, as in production.
  const limit = 5
  const instances = await Promise.all([1, 2, 3].map(async () => limiter(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), { limit, windowMs: 215 })))
  const sends: number[] = []
  const perInstance = [0, 0, 0]
  const deadline = Date.now() + 20_000
  await Promise.all(instances.flatMap((l, i) => Array.from({ length: 15 }, async () => {
    // The reserved send time, on Redis's clock: the rule is checked exactly, whatever the timers do.
    sends.push(await l.acquire({ deadline }))
    perInstance[i]!++
  })))
  t.equal(sends.length, 45, 'every request admitted: callers wait instead of failing')
  t.ok(mostInWindow(sends, 215 - EPSILON) <= limit, `at most ${limit} in any 215 ms window (saw ${mostInWindow(sends, 215 - EPSILON)})`)
  t.same(perInstance, [15, 15, 15])
  t.ok(instances.every(l => l.stats.mode === 'shared'))
})

test('the first sends of each instance interleave: no instance waits for another to drain', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const instances = await Promise.all([1, 2].map(async () => limiter(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), { limit: 2, windowMs: 100 })))
  const order: number[] = []
  const deadline = Date.now() + 20_000
  await Promise.all(instances.flatMap((l, i) => Array.from({ length: 6 }, async () => {
    await l.acquire({ deadline })
    order.push(i)
  })))
  const firstHalf = order.slice(0, 6)
  t.ok(firstHalf.includes(0) && firstHalf.includes(1), `both instances are served early (order ${order.join('')})`)
})

test('a request that cannot be admitted before its deadline gets 503 with Retry-After', async t => {
  const l = limiter(null, { limit: 1, windowMs: 1000 })
  await l.acquire({ deadline: Date.now() + 5000 })
  const err = await l.acquire({ deadline: Date.now() + 100 }).catch(e => e)
  t.ok(err instanceof HttpProblem)
  t.equal(err.code, 'UPSTREAM_RATE_LIMITED')
  t.equal(err.status, 503)
  t.ok(err.retryAfter >= 1)
  t.equal(l.stats.rejected, 1)
})

test('interactive requests go before queued background work', async t => {
  const l = limiter(null, { limit: 1, windowMs: 60 })
  const order: string[] = []
  const deadline = Date.now() + 20_000
  const all = [
    l.acquire({ deadline, priority: 'background' }).then(() => order.push('b1')),
    l.acquire({ deadline, priority: 'background' }).then(() => order.push('b2')),
    l.acquire({ deadline, priority: 'background' }).then(() => order.push('b3')),
    l.acquire({ deadline, priority: 'interactive' }).then(() => order.push('i1'))
  ]
  await Promise.all(all)
  t.ok(order.indexOf('i1') < order.indexOf('b3'), `interactive overtakes queued background (${order.join(',')})`)
})

test('a cooldown pauses every instance sharing Redis', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const a = limiter(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), { limit: 100, windowMs: 1000 })
  const b = limiter(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), { limit: 100, windowMs: 1000 })
  await a.cooldown(300)
  const started = performance.now()
  await b.acquire({ deadline: Date.now() + 5000 })
  t.ok(performance.now() - started >= 250, 'b waited for the cooldown a announced')
  t.equal(a.stats.cooldowns, 1)
})

test('Redis stopped: an in-process share of the ceiling; Redis back: shared again', async t => {
  const own = await OwnRedis.start()
  t.teardown(() => own.stop())
  const redis = await connected(t, own.url, 'bfftest:lim:')
  const l = limiter(redis, { limit: 10, windowMs: 100, fallbackLimit: 2 })
  await l.acquire({ deadline: Date.now() + 5000 })
  t.equal(l.stats.mode, 'shared')

  const closed = nextEvent(redis, 'close')
  await own.stop()
  await closed
  const sends: number[] = []
  await Promise.all(Array.from({ length: 6 }, async () => {
    sends.push(await l.acquire({ deadline: Date.now() + 10_000 }))
  }))
  t.equal(l.stats.mode, 'local')
  t.ok(mostInWindow(sends, 100 - EPSILON) <= 2, `the fallback share holds while Redis is away (${sends.map(s => s.toFixed(1)).join(', ')})`)

  const ready = nextEvent(redis, 'ready')
  await own.start()
  await ready
  // The local sends must clear the window before the shared budget is used again.
  for (let i = 0; i < 20 && l.stats.mode !== 'shared'; i++) await l.acquire({ deadline: Date.now() + 5000 })
  t.equal(l.stats.mode, 'shared', 'back to the shared ceiling without a restart')
})
