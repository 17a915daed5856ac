/**
 * What holds while the shared Redis misbehaves, with the service run as a process (src/server.ts)
 * and a Redis of the test's own: hung with SIGSTOP (cached answers stay fast), restarted empty
 * (the fleet stays warm). The Douyin ceiling through restarts: guarantees-redis-ceiling.test.ts.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { test } from 'tap'
import { startService, type ServiceProcess } from './helpers/process.js'
import { OwnRedis } from './helpers/redis-server.js'
import { connectedRedis, type Tap } from './helpers/redis.js'
import { sandboxEnv, startSandboxes, type Sandboxes } from './helpers/stack.js'

async function service (t: Tap, s: Sandboxes, redis: OwnRedis, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const svc = await startService({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SANDBOX: 'false', REDIS_URL: redis.url, ...sandboxEnv(s), ...env })
  t.teardown(() => svc.stop('SIGKILL'))
  return svc
}

async function own (t: Tap): Promise<OwnRedis> {
  const redis = await OwnRedis.start()
  t.teardown(async () => { redis.thaw(); await redis.stop() })
  return redis
}

const p99 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length * 0.99)]!

test('a hung Redis (SIGSTOP for 5 s): cached answers stay fast, with the default caller budgets on', async t => {
  const s = await startSandboxes(t)
  const redis = await own(t)
  const svc = await service(t, s, redis, { RATE_LIMIT_MAX: '100000' })
  const urls = [1, 2, 3, 4, 5].map(n => `${svc.url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=${n}`)
  for (const url of urls) t.equal((await fetch(url)).status, 200)
  redis.freeze()
  const latencies: number[] = []
  const codes = new Set<number>()
  const until = Date.now() + 5000
  await Promise.all([0, 1].map(async worker => {
    for (let i = worker; Date.now() < until; i++) {
      const started = performance.now()
      const res = await fetch(urls[i % urls.length]!)
      await res.arrayBuffer()
      latencies.push(performance.now() - started)
      codes.add(res.status)
    }
  }))
  redis.thaw()
  t.same([...codes], [200], 'every cached answer served')
  // Counted, not timed: a request that waited on the hung Redis (the old code: ~2 s each) would
  // leave two workers a handful of answers in the 5 s; without that wait they make hundreds.
  t.ok(latencies.length >= 50, `${latencies.length} requests answered while Redis hung`)
  t.comment(`p99 ${p99(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(0)} ms while Redis hung`)
})

test('a Redis restarted empty: fresh in-process copies keep being served, and go back into Redis', async t => {
  const s = await startSandboxes(t)
  const redis = await own(t)
  // Every answer is checked against Redis: each check meets the empty Redis at once.
  const svc = await service(t, s, redis, { RATE_LIMIT_MAX: '100000', CACHE_LOCAL_TTL_MS: '0' })
  const urls = Array.from({ length: 20 }, (_, i) => `${svc.url}/v1/works/tiktok?accountId=acc-tiktok-1&limit=${i + 1}`)
  for (const url of urls) t.equal((await fetch(url)).status, 200)
  const calls = s.ai.count('/works/tiktok')
  await redis.stop()
  await redis.start()
  const client = await connectedRedis(t, redis.url, 'bff:')
  const statuses = new Set<number>()
  for (let round = 0; round < 5; round++) {
    for (const url of urls) {
      const res = await fetch(url)
      await res.arrayBuffer()
      statuses.add(res.status)
    }
  }
  t.same([...statuses], [200], 'every answer 200')
  t.equal(s.ai.count('/works/tiktok'), calls, 'no upstream call: the fleet stayed warm')
  // As traffic goes on, each copy's next check finds Redis (reconnected) without it, and writes it back.
  let restored = 0
  for (let i = 0; i < 50 && restored < urls.length; i++) {
    for (const url of urls) await (await fetch(url)).arrayBuffer()
    restored = (await client.keys('bff:c:*')).filter(k => !k.endsWith(':lock')).length
    if (restored < urls.length) await delay(100)
  }
  t.equal(restored, urls.length, 'every entry written back to the restarted Redis')
  t.equal(s.ai.count('/works/tiktok'), calls, 'still no upstream call')
})
