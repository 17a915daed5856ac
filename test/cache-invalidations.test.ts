/**
 * Redis invalidations (src/cache/invalidations.ts) over a real Redis: an instance trusts its
 * in-process copy, so a hit sends nothing to Redis, until another instance changes the entry;
 * then its next answer is the new one at once, with no TTL to wait out. When the channel is lost
 * (a Redis restart) every copy is checked again, and trust comes back with the channel.
 */
import { test } from 'tap'
import { Redis } from 'ioredis'
import { stackApp, startSandboxes } from './helpers/stack.js'
import { testRedis } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'

const LIST = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=3'

/** Resolves once `cond()` holds, checked every few ms: waits for an event, not for a time. */
async function until (cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise(resolve => setTimeout(resolve, 5))
}

/** Commands Redis has run of one kind (INFO commandstats), to see whether hits touch it. */
async function calls (redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats')
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
}

test('another instance\'s change reaches this one at once; until then a hit asks Redis nothing', async t => {
  const s = await startSandboxes(t)
  const redisEnv = testRedis(t)
  // A long local TTL: only an invalidation can make B see the change within this test.
  const env = { ...redisEnv, CACHE_LOCAL_TTL_MS: '600000' }
  const [a, b] = await Promise.all([stackApp(t, s, env), stackApp(t, s, env)])
  await until(() => a.cache.tracking?.trusted === true && b.cache.tracking?.trusted === true)
  const first = await a.inject({ url: LIST })
  t.equal(first.statusCode, 200)
  t.equal((await b.inject({ url: LIST })).body, first.body, 'B took A\'s entry from Redis')

  const probe = new Redis(redisEnv.REDIS_URL)
  t.teardown(() => probe.disconnect())
  const before = { get: await calls(probe, 'get'), getrange: await calls(probe, 'getrange') }
  for (let i = 0; i < 50; i++) await b.inject({ url: LIST })
  t.same({ get: await calls(probe, 'get'), getrange: await calls(probe, 'getrange') }, before, '50 hits on B: no read of Redis at all')

  // A revalidates and the upstream now answers something else.
  const changed = JSON.stringify({
    code: 0,
    message: '请求成功',
    data: { platform: 'tiktok', items: [{ platformWorkId: '7401234567890123456', contentMode: 'video', title: 'changed upstream', metrics: { viewCount: 10 } }], pagination: { mode: 'cursor', hasNext: false } }
  })
  s.ai.addFault({ kind: 'body', path: '/api/v2/channels/works/tiktok', body: changed, times: 1 })
  const dropped = b.cache.tracking!.dropped
  const refreshed = await a.inject({ url: LIST, headers: { 'cache-control': 'no-cache' } })
  t.match(refreshed.body, /changed upstream/)
  await until(() => b.cache.tracking!.dropped > dropped)
  const seen = await b.inject({ url: LIST })
  t.match(seen.body, /changed upstream/, 'B answers the new entry at once (its TTL was 10 minutes)')
  t.equal(s.ai.count('/works/tiktok'), 2, 'from Redis: B called no upstream')
})

test('a Redis restart: trust is lost (copies checked again), then set up anew', async t => {
  const own = await OwnRedis.start()
  t.teardown(() => own.stop())
  const s = await startSandboxes(t)
  const app = await stackApp(t, s, { REDIS_URL: own.url, REDIS_KEY_PREFIX: 'inv:' })
  await until(() => app.cache.tracking?.trusted === true)
  t.equal((await app.inject({ url: LIST })).statusCode, 200)
  await own.stop()
  await until(() => app.cache.tracking?.trusted === false)
  t.equal((await app.inject({ url: LIST })).statusCode, 200, 'served from the in-process copy meanwhile')
  await own.start()
  await until(() => app.cache.tracking?.trusted === true)
  t.ok(app.cache.tracking!.resets >= 1, 'the loss was counted')
  t.match((await app.inject({ url: '/metrics' })).body, /^bff_cache_invalidations_trusted 1$/m)
})

test('one connection of the two drops (CLIENT KILL): trust is lost and comes back, and a change is still seen', async t => {
  const own = await OwnRedis.start()
  t.teardown(() => own.stop())
  const s = await startSandboxes(t)
  const env = { REDIS_URL: own.url, REDIS_KEY_PREFIX: 'kill:', CACHE_LOCAL_TTL_MS: '600000' }
  const [a, b] = await Promise.all([stackApp(t, s, env), stackApp(t, s, env)])
  const admin = new Redis(own.url)
  t.teardown(() => admin.disconnect())
  await until(() => a.cache.tracking?.trusted === true && b.cache.tracking?.trusted === true)
  t.equal((await a.inject({ url: LIST })).statusCode, 200)
  t.equal((await b.inject({ url: LIST })).statusCode, 200)
  /** The instances' connections as Redis lists them: subscribers in pub/sub mode (flag P), command connections with tracking on (flag t). */
  const connectionsOf = async (flag: 'P' | 't') => String(await admin.client('LIST')).split('\n')
    .filter(line => new RegExp(` flags=\\S*${flag}`).test(line))
    .map(line => /\bid=(\d+)/.exec(line)![1]!)
  for (const which of ['subscriber', 'command connection'] as const) {
    const resets = b.cache.tracking!.resets
    const ids = await connectionsOf(which === 'subscriber' ? 'P' : 't')
    t.ok(ids.length > 0, `${which}s found`)
    for (const id of ids) await admin.client('KILL', 'ID', id)
    await until(() => b.cache.tracking!.resets > resets && b.cache.tracking!.trusted === true && a.cache.tracking!.trusted === true)
    const dropped = b.cache.tracking!.dropped
    s.ai.addFault({ kind: 'body', path: '/api/v2/channels/works/tiktok', body: JSON.stringify({ code: 0, message: '请求成功', data: { platform: 'tiktok', items: [{ platformWorkId: '7401234567890123456', contentMode: 'video', title: `after the ${which} dropped`, metrics: { viewCount: 10 } }], pagination: { mode: 'cursor', hasNext: false } } }), times: 1 })
    t.match((await a.inject({ url: LIST, headers: { 'cache-control': 'no-cache' } })).body, new RegExp(`after the ${which} dropped`))
    await until(() => b.cache.tracking!.dropped > dropped)
    t.match((await b.inject({ url: LIST })).body, new RegExp(`after the ${which} dropped`), `after the ${which} came back, B hears A's change`)
  }
})
