/** Caller budgets: exact in one instance, within a documented slack over one Redis, never stuck on Redis. */
import { test } from 'tap'
import { Budget } from '../src/budgets/budget.js'
import { REDIS_URL, connectedRedis, testRedis } from './helpers/redis.js'
import { stackApp, startSandboxes } from './helpers/stack.js'

test('one instance without Redis: exactly max per window, then refusals with the time to wait', async t => {
  const b = new Budget({ name: 't', max: 10, windowMs: 60_000, redis: null })
  const now = 1_800_000_000_000
  const verdicts = Array.from({ length: 15 }, () => b.take('ip:1', now)!)
  t.equal(verdicts.filter(v => v.ok).length, 10)
  t.same(verdicts.slice(0, 10).map(v => v.remaining), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
  t.ok(verdicts.slice(10).every(v => !v.ok && v.remaining === 0 && v.resetS >= 1 && v.resetS <= 60))
  t.ok(b.take('ip:2', now)!.ok, 'another caller has its own budget')
  t.ok(b.take('ip:1', now + 60_000)!.ok, 'the next window is whole again')
})

test('three instances over one Redis, a budget of 100, 1000 takes spread over them: between 100 and 100 + slack admitted', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const budgets = await Promise.all([0, 1, 2].map(async () => new Budget({ name: 'caller', max: 100, windowMs: 600_000, redis: await connectedRedis(t, REDIS_URL, REDIS_KEY_PREFIX) })))
  t.teardown(() => { for (const b of budgets) b.close() })
  const verdicts = await Promise.all(Array.from({ length: 1000 }, (_, i) => budgets[i % 3]!.takeAsync('key:svc')))
  const admitted = verdicts.filter(v => v.ok).length
  const slack = budgets[0]!.slack(3)
  t.ok(admitted >= 100 && admitted <= 100 + slack, `${admitted} admitted of 1000 (slack ${slack}: ${budgets[0]!.batch} per instance)`)
  // Takes spread over time, as requests come: every instance learns the fleet's count.
  const later = []
  for (let i = 0; i < 30; i++) later.push(await budgets[i % 3]!.takeAsync('key:svc'))
  t.ok(later.every(v => !v.ok), 'spent across the fleet: every instance refuses')
})

test('a small budget over Redis is exact: each take counted in Redis first', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const budgets = await Promise.all([0, 1].map(async () => new Budget({ name: 'small', max: 7, windowMs: 600_000, redis: await connectedRedis(t, REDIS_URL, REDIS_KEY_PREFIX) })))
  t.equal(budgets[0]!.batch, 0)
  const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => budgets[i % 2]!.takeAsync('key:a')))
  t.equal(verdicts.filter(v => v.ok).length, 7, 'exactly 7 of 40')
})

test('the budget of /v1 requests across three app instances: within the slack, with RateLimit headers and 429s', async t => {
  const s = await startSandboxes(t)
  const env = { RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_S: '86400', ...testRedis(t) }
  const apps = await Promise.all([0, 1, 2].map(() => stackApp(t, s, env)))
  // 1000 requests, 30 at a time, round robin over the instances (as a load balancer spreads them).
  const codes: number[] = []
  for (let i = 0; i < 1000; i += 30) {
    codes.push(...await Promise.all(Array.from({ length: Math.min(30, 1000 - i) }, (_, j) => apps[(i + j) % 3]!.inject({ url: '/v1/platforms' }).then(r => r.statusCode))))
  }
  const ok = codes.filter(c => c === 200).length
  const slack = apps[0]!.callerBudget!.budget.slack(3)
  t.ok(ok >= 100 && ok <= 100 + slack, `${ok} answered 200 of 1000 (budget 100, documented slack ${slack})`)
  t.equal(codes.filter(c => c === 429).length, 1000 - ok, 'the rest 429')
  const last = await apps[1]!.inject({ url: '/v1/platforms' })
  t.equal(last.statusCode, 429)
  t.equal(last.headers['ratelimit-limit'], '100')
  t.equal(last.headers['ratelimit-remaining'], '0')
  t.ok(Number(last.headers['retry-after']) >= 1)
})
