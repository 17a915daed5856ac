/**
 * The Douyin ceiling across the fleet while its Redis is killed and restarted under load: two
 * service processes at 3x the ceiling, the sandbox counting every arrival. The second instance
 * reaches Redis through a proxy that stays cut 3 s longer than the outage, as a network would:
 * the first is back on the shared budget while the second still spends its local share.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { test } from 'tap'
import { startService, type ServiceProcess } from './helpers/process.js'
import { OwnRedis } from './helpers/redis-server.js'
import type { Tap } from './helpers/redis.js'
import { sandboxEnv, startSandboxes, type Sandboxes } from './helpers/stack.js'
import { TcpProxy } from './helpers/tcp-proxy.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'

async function service (t: Tap, s: Sandboxes, redis: { url: string }, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const svc = await startService({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SANDBOX: 'false', REDIS_URL: redis.url, ...sandboxEnv(s), ...env })
  t.teardown(() => svc.stop('SIGKILL'))
  return svc
}

test('two instances at 3x the Douyin ceiling through three Redis restarts: never more than 10 arrivals in a second', async t => {
  const s = await startSandboxes(t)
  const redis = await OwnRedis.start()
  t.teardown(() => redis.stop())
  const proxy = await TcpProxy.start(t, redis.port)
  // The daily API: one Douyin call per distinct query, so the load reaches the ceiling (the bill is one call per date).
  const env = { DOUYIN_SOURCE: 'daily', RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0', RATE_LIMIT_MAX: '0', REQUEST_DEADLINE_MS: '4000' }
  const a = await service(t, s, redis, env)
  const b = await service(t, s, proxy, env)
  s.dy.resetStats()
  const state = { running: true }
  let sent = 0
  const answers: number[] = []
  // 30 distinct uncached queries a second, alternating between the instances.
  const load = (async () => {
    const inflight: Array<Promise<void>> = []
    for (let i = 1; state.running; i++) {
      const url = `${(i % 2 === 0 ? a : b).url}/v1/douyin/task-videos/daily?billingDate=${addDays(beijingToday(), -1 - (i % 20))}&pageSize=1&page=${i}`
      inflight.push(fetch(url).then(r => { answers.push(r.status); return r.arrayBuffer() }).then(() => {}, () => { answers.push(0) }))
      sent++
      await delay(33)
    }
    await Promise.all(inflight)
  })()
  for (let round = 0; round < 3; round++) {
    await delay(2500)
    proxy.cut()
    await redis.stop() // SIGKILL
    await delay(2000)
    await redis.start()
    await delay(3000)
    proxy.mend()
  }
  await delay(4000)
  state.running = false
  await load
  const stats = s.dy.stats()
  t.ok(stats.dataRequests > 100, `${stats.dataRequests} Douyin calls made of ${sent} requests (${answers.filter(x => x === 200).length} answered 200)`)
  t.ok(stats.maxPerSecond <= 10, `at most 10 arrivals in any second, through three restarts, one instance back 3 s after the other (saw ${stats.maxPerSecond})`)
  t.equal(stats.rateLimited, 0, 'Douyin never said 28003018')
})

test('an instance frozen again and again (a CPU quota, a GC pause) does not send the slots it slept through', async t => {
  const s = await startSandboxes(t)
  const redis = await OwnRedis.start()
  t.teardown(() => redis.stop())
  const env = { DOUYIN_SOURCE: 'daily', RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0', RATE_LIMIT_MAX: '0', REQUEST_DEADLINE_MS: '6000' }
  const a = await service(t, s, redis, env)
  const b = await service(t, s, redis, env)
  s.dy.resetStats()
  const state = { running: true }
  const inflight: Array<Promise<void>> = []
  const load = (async () => {
    for (let i = 1; state.running; i++) {
      const url = `${(i % 2 === 0 ? a : b).url}/v1/douyin/task-videos/daily?billingDate=${addDays(beijingToday(), -1 - (i % 20))}&pageSize=1&page=${i}`
      inflight.push(fetch(url).then(r => r.arrayBuffer()).then(() => {}, () => {}))
      await delay(33)
    }
  })()
  await delay(1500)
  for (let round = 0; round < 6; round++) {
    b.child.kill('SIGSTOP')
    await delay(700)
    b.child.kill('SIGCONT')
    await delay(600)
  }
  state.running = false
  await load
  await Promise.all(inflight)
  const stats = s.dy.stats()
  const metrics = await (await fetch(`${b.url}/metrics`)).text()
  const missed = Number(/^bff_douyin_limiter_missed_total (\d+)/m.exec(metrics)?.[1] ?? 'NaN')
  t.ok(stats.dataRequests > 60, `${stats.dataRequests} Douyin calls`)
  t.ok(missed > 0, `the frozen instance gave up ${missed} slots it woke too late for`)
  t.ok(stats.maxPerSecond <= 10, `at most 10 arrivals in any second (saw ${stats.maxPerSecond})`)
  t.equal(stats.rateLimited, 0, 'Douyin never said 28003018')
})
