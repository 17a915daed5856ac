import { test } from 'tap'
import pino from 'pino'
import type { Redis } from 'ioredis'
import { Cache, hashKey, type CachePolicy } from '../src/cache/cache.js'
import { MemoryStore } from '../src/cache/memory-store.js'
import { HttpProblem } from '../src/errors.js'
import { decodeEntry, encodeEntry, makeEntry } from '../src/cache/entry.js'
import { REDIS_URL, connectedRedis as connected, testRedis, nextEvent } from './helpers/redis.js'
import { OwnRedis } from './helpers/redis-server.js'
import { RedisStore } from '../src/cache/redis-store.js'

const log = pino({ level: 'silent' })
const policy = (over: Partial<CachePolicy> = {}): CachePolicy => ({ name: 't', freshMs: 60_000, staleMs: 60_000, errorMs: 60_000, negativeMs: 60_000, ...over })
const soon = () => Date.now() + 5000

function makeCache (redis: Redis | null, localTtlMs = 2000) {
  return new Cache({ memory: new MemoryStore(1 << 20), redis, log, localTtlMs, lockMs: 3000, backgroundMs: 5000 })
}

/** The bytes a fill stores: the cache keeps what it is given. */
const json = (value: unknown) => Buffer.from(JSON.stringify(value))

/** A fetch that counts its calls and answers once `release` is called. */
function gatedFetch (value: unknown = { ok: true }) {
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const counter = { calls: 0 }
  return { counter, release, fetch: async () => { counter.calls++; await gate; return json(value) } }
}

test('entries survive the binary encoding', async t => {
  const entry = makeEntry(200, Buffer.from('{"a":1}'), 1000, { freshMs: 1, staleMs: 2, errorMs: 3 })
  const back = decodeEntry(encodeEntry(entry))!
  t.same({ ...back, body: back.body.toString() }, { ...entry, body: '{"a":1}' })
  t.equal(decodeEntry(Buffer.from('garbage')), undefined, 'damage reads as a miss')
})

test('the in-process tier is bounded by bytes, least recently used first out', async t => {
  const store = new MemoryStore(3 * (1000 + 300 + MemoryStore.OVERHEAD))
  const big = (n: number) => makeEntry(200, Buffer.alloc(1000, n), 0, { freshMs: 1e9, staleMs: 0, errorMs: 0 })
  store.set('a', big(1), Infinity)
  store.set('b', big(2), Infinity)
  store.set('c', big(3), Infinity)
  t.ok(store.get('a'), 'a used: now most recent')
  store.set('d', big(4), Infinity)
  t.equal(store.get('b'), undefined, 'b evicted')
  t.ok(store.get('a') && store.get('c') && store.get('d'))
  t.ok(store.bytes <= store.maxBytes)
  store.set('huge', makeEntry(200, Buffer.alloc(1 << 20), 0, { freshMs: 1, staleMs: 0, errorMs: 0 }), Infinity)
  t.equal(store.get('huge'), undefined, 'an entry above the bound is not kept')
})

test('a value read often stays in the in-process tier while others churn through it', async t => {
  const entry = (n: number) => makeEntry(200, Buffer.alloc(1000, n), 0, { freshMs: 1e9, staleMs: 0, errorMs: 0 })
  const store = new MemoryStore(10 * (1000 + 300 + MemoryStore.OVERHEAD))
  store.set('hot', entry(0), Infinity)
  let kept = 0
  for (let i = 0; i < 1000; i++) {
    store.set(`cold-${i}`, entry(1), Infinity)
    if (i % 3 === 0 && store.get('hot') !== undefined) kept++
  }
  t.equal(kept, 334, 'read every third insertion: never evicted')
  t.ok(store.bytes <= store.maxBytes, 'within its bound')
  t.equal(store.get('cold-0'), undefined, 'the cold ones went')
})

test('50 concurrent misses of one key make one upstream call (one instance)', async t => {
  const cache = makeCache(null)
  const { counter, release, fetch } = gatedFetch({ n: 1 })
  const all = Promise.all(Array.from({ length: 50 }, () => cache.cached('k', policy(), fetch, { deadline: soon() })))
  release()
  const results = await all
  t.equal(counter.calls, 1)
  t.equal(results.filter(r => r.status === 'miss').length, 1)
  t.equal(results.filter(r => r.status === 'coalesced').length, 49)
  t.same(JSON.parse(results[0]!.entry.body.toString()), { n: 1 })
  t.equal((await cache.cached('k', policy(), fetch, { deadline: soon() })).status, 'hit')
  t.equal(counter.calls, 1)
})

test('two instances sharing Redis make one upstream call between them', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const a = makeCache(await connected(t, REDIS_URL, REDIS_KEY_PREFIX))
  const b = makeCache(await connected(t, REDIS_URL, REDIS_KEY_PREFIX))
  const { counter, release, fetch } = gatedFetch({ shared: true })
  const first = a.cached('k', policy(), fetch, { deadline: soon() })
  // b starts once a holds the lock: b must wait for a's value, not call.
  await new Promise(resolve => setImmediate(resolve))
  const others = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).cached('k', policy(), fetch, { deadline: soon() }))
  release()
  const results = await Promise.all([first, ...others])
  t.equal(counter.calls, 1, 'one call for 21 requests over two instances')
  t.ok(results.every(r => r.entry.body.toString() === '{"shared":true}'))
})

test('an instance that missed, then finds a value stored meanwhile, does not call the upstream again', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const redis = await connected(t, REDIS_URL, REDIS_KEY_PREFIX)
  const store = new RedisStore(redis)
  const keys = RedisStore.keys('k')
  const empty = await store.claim(keys, 'first', 3000)
  t.same(empty, { locked: true, entry: undefined }, 'a free lock is taken; nothing stored yet')
  const entry = makeEntry(200, Buffer.from('{"v":1}'), Date.now(), { freshMs: 60_000, staleMs: 0, errorMs: 0 })
  await store.commit(keys, entry, 60_000, 'first')
  // A second claimant read nothing a moment ago; its claim now sees the stored value.
  const late = await store.claim(keys, 'second', 3000)
  t.equal(late.locked, true, 'the lock was released by the commit')
  t.equal(late.entry?.body.toString(), '{"v":1}', 'and the value comes with the claim')
  const held = await store.claim(keys, 'third', 3000)
  t.equal(held.locked, false, 'a held lock is not taken twice')
})

test('an in-process copy is checked against Redis: the same version is used as is, a newer one replaces it', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const a = makeCache(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), 0)
  const b = makeCache(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), 0)
  const v1 = await a.cached('k', policy(), async () => json({ v: 1 }), { deadline: soon() })
  t.equal(a.freshHit('k'), undefined, 'CACHE_LOCAL_TTL_MS=0: nothing is served without asking Redis')
  const again = await a.cached('k', policy(), async () => json({ v: 9 }), { deadline: soon() })
  t.equal(again.status, 'hit')
  t.equal(again.entry, v1.entry, 'the local copy itself: Redis holds that version, its body was not read again')
  const checked = await a.sharedHit('k')
  t.equal(checked?.entry, v1.entry, 'the front door path checks the same way')

  await b.cached('k', policy(), async () => json({ v: 2 }), { deadline: soon(), noCache: true })
  const after = await a.cached('k', policy(), async () => json({ v: 9 }), { deadline: soon() })
  t.equal(after.status, 'hit')
  t.same(JSON.parse(after.entry.body.toString()), { v: 2 }, "another instance's newer version, at once")

  // Redis lost the entry (a restart, an eviction): the unexpired local copy stands and goes back.
  const raw = await connected(t, REDIS_URL, REDIS_KEY_PREFIX)
  const entryKey = RedisStore.keys(hashKey('k')).entry
  await raw.del(entryKey)
  const kept = await a.sharedHit('k')
  t.same(JSON.parse(kept!.entry.body.toString()), { v: 2 }, 'gone from Redis: the local copy is still served...')
  t.ok(await raw.exists(entryKey), '...and written back')
  const fromB = await b.cached('k', policy(), async () => json({ v: 9 }), { deadline: soon() })
  t.same(JSON.parse(fromB.entry.body.toString()), { v: 2 }, 'another instance finds it there: no upstream call')
})

test('with a check interval, a hit due for its check is served at once and checked behind it', async t => {
  const { REDIS_KEY_PREFIX } = testRedis(t)
  const a = makeCache(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), 1)
  const b = makeCache(await connected(t, REDIS_URL, REDIS_KEY_PREFIX), 1)
  await a.cached('k', policy(), async () => json({ v: 1 }), { deadline: soon() })
  await b.cached('k', policy(), async () => json({ v: 2 }), { deadline: soon(), noCache: true })
  await new Promise(resolve => setTimeout(resolve, 5)) // past a's 1 ms check interval
  const due = a.freshHit('k')
  t.same(JSON.parse(due!.entry.body.toString()), { v: 1 }, 'served from memory without waiting for Redis')
  let now: ReturnType<typeof a.freshHit>
  for (let i = 0; i < 400 && JSON.parse((now = a.freshHit('k'))!.entry.body.toString()).v !== 2; i++) await new Promise(resolve => setTimeout(resolve, 5))
  t.same(JSON.parse(now!.entry.body.toString()), { v: 2 }, 'the check behind it brought the newer version')
})

test('stale-while-revalidate answers at once and refreshes once', async t => {
  const cache = makeCache(null)
  let version = 0
  let refreshed!: () => void
  const done = new Promise<void>(resolve => { refreshed = resolve })
  const fetch = async () => {
    version++
    if (version === 2) setImmediate(refreshed)
    return json({ version })
  }
  const p = policy({ freshMs: 0, staleMs: 60_000 })
  t.equal((await cache.cached('k', p, fetch, { deadline: soon() })).status, 'miss')
  const stale = await Promise.all([1, 2, 3].map(() => cache.cached('k', p, fetch, { deadline: soon() })))
  t.same(stale.map(r => r.status), ['stale', 'stale', 'stale'])
  t.ok(stale.every(r => r.entry.body.toString() === '{"version":1}'), 'the old value, at once')
  await done
  t.equal(version, 2, 'one background refresh for three stale answers')
  t.equal(cache.stats.refreshes, 1)
})

test('stale-if-error serves stale on an upstream failure, never on a 404', async t => {
  const cache = makeCache(null)
  const p = policy({ freshMs: 0, staleMs: 0, errorMs: 60_000, negativeMs: 60_000 })
  await cache.cached('k', p, async () => json({ v: 1 }), { deadline: soon() })
  const failed = await cache.cached('k', p, async () => { throw new HttpProblem('UPSTREAM_ERROR', { detail: 'HTTP 502' }) }, { deadline: soon() })
  t.equal(failed.status, 'stale-if-error')
  t.equal(failed.error?.status, 502)
  t.equal(failed.entry.body.toString(), '{"v":1}')

  const notFound = await cache.cached('k', p, async () => { throw new HttpProblem('NOT_FOUND', { detail: 'gone' }) }, { deadline: soon() })
  t.equal(notFound.entry.status, 404, 'a 404 is the answer, not the stale data')
  t.equal(notFound.status, 'miss')

  const caller = await t.rejects(cache.cached('other', p, async () => { throw new HttpProblem('VALIDATION_FAILED', { detail: 'bad' }) }, { deadline: soon() }))
  t.ok(caller)
})

test('"not found" is remembered briefly (negative caching)', async t => {
  const cache = makeCache(null)
  let calls = 0
  const fetch = async () => { calls++; throw new HttpProblem('NOT_FOUND', { detail: 'no such work', upstream: { name: 'aitoearn', code: 15079 } }) }
  const first = await cache.cached('k', policy(), fetch, { deadline: soon() })
  const second = await cache.cached('k', policy(), fetch, { deadline: soon() })
  t.equal(calls, 1)
  t.equal(second.status, 'hit')
  t.equal(first.entry.status, 404)
  t.same(JSON.parse(first.entry.body.toString()).upstream, { name: 'aitoearn', code: 15079 })
  t.notMatch(first.entry.body.toString(), /requestId/, 'the request id is added per answer')
})

test('no-cache revalidates, still one call per key', async t => {
  const cache = makeCache(null)
  let calls = 0
  const fetch = async () => json({ calls: ++calls })
  await cache.cached('k', policy(), fetch, { deadline: soon() })
  const results = await Promise.all([1, 2, 3].map(() => cache.cached('k', policy(), fetch, { deadline: soon(), noCache: true })))
  t.equal(calls, 2)
  t.same(results.map(r => r.status).sort(), ['coalesced', 'coalesced', 'revalidated'])
})

test('Redis stopped mid-run: answers go on in-process, then Redis is used again', async t => {
  const own = await OwnRedis.start()
  t.teardown(() => own.stop())
  const redis = await connected(t, own.url, 'bfftest:outage:')
  const cache = makeCache(redis, 0)
  let calls = 0
  const fetch = async () => json({ calls: ++calls })
  t.equal((await cache.cached('a', policy(), fetch, { deadline: soon() })).status, 'miss')
  t.equal((await cache.cached('a', policy(), fetch, { deadline: soon() })).status, 'hit', 'from Redis (local tier off)')

  const closed = nextEvent(redis, 'close')
  await own.stop()
  await closed
  const during = await cache.cached('b', policy(), fetch, { deadline: soon() })
  t.equal(during.status, 'miss', 'a miss is fetched, not failed')
  t.equal((await cache.cached('b', policy(), fetch, { deadline: soon() })).status, 'hit', 'kept in-process while Redis is away')
  t.equal(cache.redisUp, false)

  const ready = nextEvent(redis, 'ready')
  await own.start()
  await ready
  t.equal((await cache.cached('c', policy(), fetch, { deadline: soon() })).status, 'miss')
  t.equal(cache.redisUp, true, 'back on Redis without a restart')
  t.equal(await redis.dbsize() > 0, true, 'the shared tier holds entries again')
})
