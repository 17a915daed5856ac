/**
 * Past one Redis: a real 3-master Redis Cluster and a Sentinel-managed primary, started here
 * (test/helpers/redis-cluster.ts). The same guarantees as on one server: one upstream fill per
 * key across instances, one Douyin token, the Douyin ceiling, caller budgets within their slack.
 * Every script's keys share a hash tag, or Cluster would refuse them (CROSSSLOT).
 */
import { test } from 'tap'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { sandboxEnv, stackApp, startSandboxes } from './helpers/stack.js'
import { startService } from './helpers/process.js'
import { OwnCluster, OwnSentinel, clusterUnavailable } from './helpers/redis-cluster.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

const skip = clusterUnavailable()
const LIST = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=5'
const day = (n: number) => addDays(beijingToday(), -n)

test('Redis Cluster: one fill per key across instances, keys spread over the masters, one Douyin token', { skip }, async t => {
  const cluster = await OwnCluster.start(t)
  const s = await startSandboxes(t)
  const env = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_KEY_PREFIX: `c${randomBytes(3).toString('hex')}:`, DOUYIN_SOURCE: 'daily' }
  const [a, b] = await Promise.all([stackApp(t, s, env), stackApp(t, s, env)])
  t.equal(a.cache.redisUp, true, 'the cache uses the cluster')

  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).inject({ url: LIST })))
  t.same(answers.map(r => r.statusCode), answers.map(() => 200))
  t.equal(s.ai.count('/works/tiktok'), 1, '20 requests on two instances: one upstream call (the fill lock is in the cluster)')

  for (let n = 6; n < 30; n++) await a.inject({ url: `/v1/works/tiktok?accountId=acc-tiktok-1&limit=${n}` })
  const holding = await Promise.all(cluster.ports.map(async port => {
    const node = new Redis({ port, host: '127.0.0.1' })
    try { return (await node.keys(`${env.REDIS_KEY_PREFIX}*`)).length } finally { node.disconnect() }
  }))
  t.ok(holding.filter(n => n > 0).length >= 2, `keys on several masters (${holding.join(', ')})`)
  const hit = await b.inject({ url: '/v1/works/tiktok?accountId=acc-tiktok-1&limit=17' })
  t.match(hit.headers['cache-status'], /hit/, 'the other instance hits what the first stored')

  const [x, y] = await Promise.all([a.inject({ url: `/v1/douyin/task-videos/daily?billingDate=${day(1)}` }), b.inject({ url: `/v1/douyin/task-videos/daily?billingDate=${day(2)}` })])
  t.equal(x.statusCode, 200, 'HTTP 200', { body: x.body })
  t.equal(y.statusCode, 200, 'HTTP 200', { body: y.body })
  t.equal(s.dy.stats().tokensIssued, 1, 'one Douyin token for both instances')
})

test('Redis Cluster: two instances at 3x the Douyin ceiling: at most 10 a second, none refused by Douyin', { skip }, async t => {
  const cluster = await OwnCluster.start(t)
  const s = await startSandboxes(t)
  const env = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_KEY_PREFIX: `l${randomBytes(3).toString('hex')}:`, DOUYIN_SOURCE: 'daily', RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0', RATE_LIMIT_MAX: '0', REQUEST_DEADLINE_MS: '20000' }
  // Processes of their own, as deployed: one event loop shared with the sandbox would make its
  // arrival times those of the loop, not of the network.
  const [a, b] = await Promise.all([1, 2].map(async () => {
    const svc = await startService({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SANDBOX: 'false', ...sandboxEnv(s), ...env })
    t.teardown(() => svc.stop('SIGKILL'))
    return svc
  }))
  s.dy.resetStats()
  // 60 distinct queries (page sizes), 30 on each instance, all at once, on fresh processes: 6 s of
  // Douyin at 10 a second. Their first sends open connections and run code cold, arriving over
  // ~90 ms where later ones take ~35: without the cold tail on their slots (upstream/http.ts),
  // 12-13 arrived within one second in 3 of 3 runs.
  const answers = await Promise.all(Array.from({ length: 60 }, async (_, i) => (await fetch(`${(i % 2 ? a : b)!.url}/v1/douyin/task-videos/daily?billingDate=${day(1)}&pageSize=${i + 1}`)).status))
  t.same(answers, answers.map(() => 200))
  const stats = s.dy.stats()
  t.equal(stats.rateLimited, 0, 'Douyin never said "too many"')
  t.ok(stats.maxPerSecond <= 10, `at most 10 in any second (saw ${stats.maxPerSecond})`)
  t.match(await (await fetch(`${a!.url}/metrics`)).text(), /^bff_douyin_limiter_shared 1$/m, 'the ceiling is held in the cluster')
})

test('Redis Cluster: a caller budget of 20 across two instances', { skip }, async t => {
  const cluster = await OwnCluster.start(t)
  const s = await startSandboxes(t)
  const env = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_KEY_PREFIX: `b${randomBytes(3).toString('hex')}:`, RATE_LIMIT_MAX: '20', RATE_LIMIT_WINDOW_S: '600' }
  const [a, b] = await Promise.all([stackApp(t, s, env), stackApp(t, s, env)])
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).inject({ url: LIST })))
  const ok = answers.filter(r => r.statusCode === 200).length
  const slack = a.callerBudget!.budget.slack(2)
  t.ok(ok >= 20 && ok <= 20 + slack, `${ok} answered of 40 (budget 20, slack ${slack})`)
  t.ok(answers.filter(r => r.statusCode !== 200).every(r => r.statusCode === 429))
})

test('Redis Sentinel: the primary it names holds the shared cache', { skip }, async t => {
  const sentinel = await OwnSentinel.start(t)
  const s = await startSandboxes(t)
  const env = { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: 'mymaster', REDIS_KEY_PREFIX: `s${randomBytes(3).toString('hex')}:` }
  const [a, b] = await Promise.all([stackApp(t, s, env), stackApp(t, s, env)])
  t.equal((await a.inject({ url: LIST })).statusCode, 200)
  const hit = await b.inject({ url: LIST })
  t.match(hit.headers['cache-status'], /hit/, 'the other instance hits it')
  t.equal(s.ai.count('/works/tiktok'), 1)
  const primary = new Redis({ port: sentinel.primary, host: '127.0.0.1' })
  t.teardown(() => primary.disconnect())
  t.ok((await primary.keys(`${env.REDIS_KEY_PREFIX}*`)).length > 0, 'the keys are on the primary')
})
