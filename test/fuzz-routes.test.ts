import { test } from 'tap'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { stackApp, startSandboxes, type Sandboxes } from './helpers/stack.js'
import type { Tap } from './helpers/redis.js'
import { PLATFORMS } from '../src/schemas/metrics.js'
import { beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'
import { BILL_LINK_PATH, DAILY_DATA_PATH, STABLE_TOKEN_PATH, TASK_VIDEO_DATA_PATH, TOKEN_PATH } from '../src/sandbox/douyin/server.js'

/**
 * Property-based fuzzing of every API route's path, query and headers: odd unicode, huge values,
 * `..` and `%2F`, wrong types, duplicated parameters. Never a 5xx, never an upstream request to a
 * path or host other than the intended ones (read from the sandboxes' recorded requests).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 250)
const PLATFORM_SET = new Set<string>(PLATFORMS)

/** AiToEarn targets we may call: the platform list, a platform's works, one work's analytics (ONE segment). */
function aitoearnTargetOk (url: string): boolean {
  const path = url.split('?', 1)[0]!
  if (path === '/api/v2/channels/platforms') return true
  const m = /^\/api\/v2\/channels\/works\/([^/]+)(?:\/([^/]+)\/analytics)?$/.exec(path)
  if (!m || !PLATFORM_SET.has(m[1]!)) return false
  if (m[2] === undefined) return true
  const id = decodeURIComponent(m[2])
  return id !== '.' && id !== '..' && encodeURIComponent(id) === m[2]
}
const douyinTargetOk = (url: string) => [DAILY_DATA_PATH, BILL_LINK_PATH, TASK_VIDEO_DATA_PATH, STABLE_TOKEN_PATH, TOKEN_PATH].includes(url)

// Strings that stress parsers and path building.
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('..', '.', '../..', '..%2F..', '%2F', '%2e%2e', '%252F', '/', '?', '#', '%', '%zz', '\u0000', '\uD800', '\uFFFF', '🙂', 'null', '[]', '{}', '-1', '0', '1e309', 'NaN', 'true', ' ', '\u202e', 'a'.repeat(3000)),
  fc.string({ unit: fc.constantFrom('.', '/', '%', '2', 'F', 'a', '\\', '?', '#', '&', '=', '[', ']'), maxLength: 30 })
)
/** A path segment as a client may send it: percent-encoded, or raw where that still makes a URL. */
const segment = fc.oneof(
  nasty.map(v => encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, 'x'))),
  fc.constantFrom('..', '.', '%2e%2e', '..%2F..%2Fadmin', '%2F', 'a%2Fb', '%00', '%ZZ', 'tiktok', 'douyin', 'TIKTOK', 'x'.repeat(600))
)
const queryValue = nasty.map(v => encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, 'x')))
const queryPairs = (names: string[]) => fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), fc.constantFrom('x', 'pagination[limit]', '__proto__', 'constructor', 'a[b][c]', '')), fc.oneof(queryValue, fc.constantFrom('1', '20', '0', '-5', '999999999999', '2026-01-01', '2026-13-45', 'true', 'next', 'previous', 'acc-tiktok-1', '2026-01-01T00:00:00Z'))), { maxLength: 8 })
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)), maxLength: 200 }),
  fc.constantFrom('no-cache', 'max-age=0', '*', 'W/"x"', 'zh-CN;q=0.9, en;q=0.8', 'Bearer ' + 'x'.repeat(300), 'x'.repeat(4000))
)
const headers = fc.record({
  'if-none-match': headerValue,
  'cache-control': headerValue,
  'accept-language': headerValue,
  'x-request-id': headerValue,
  authorization: headerValue,
  'x-api-key': headerValue,
  accept: headerValue
}, { requiredKeys: [] })

interface RouteFuzz { name: string, url: fc.Arbitrary<string> }
const q = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${k}=${v}`).join('&')
const platform = fc.constantFrom(...PLATFORMS)
const yesterday = addDays(beijingToday(), -1)
/** A Douyin video id's shape: 19 digits. */
const videoId = fc.stringMatching(/^[1-9]\d{18}$/)
/** Mostly valid requests with one odd part: these reach the upstreams, so their targets get checked. */
const near = {
  works: fc.tuple(platform, queryValue, fc.constantFrom('', '&limit=5', '&direction=previous', '&limit=5&limit=6')).map(([p, c, rest]) => `/v1/works/${p}?accountId=acc-${p}-1&cursor=${c}${rest}`),
  analytics: fc.tuple(fc.constantFrom('tiktok', 'douyin', 'youtube'), segment, queryValue).map(([p, w, a]) => `/v1/works/${p}/${w}/analytics?accountId=${a.length > 0 ? a : 'acc-x'}`),
  daily: fc.tuple(queryValue, queryValue, fc.constantFrom('', '&pageSize=3', '&all=true&pageSize=10', '&page=2&page=3')).map(([d, a, rest]) => `/v1/douyin/task-videos/daily?billingDate=${yesterday}&douyinId=${d || 'x'}&agencyClientKey=${a || 'y'}${rest}`),
  // Each work has one source: AiToEarn for tiktok, Douyin for a douyin video (given its publication time).
  merged: fc.oneof(
    fc.tuple(segment, queryValue).map(([w, a]) => `/v1/works/tiktok/${w}/metrics?accountId=${a || 'acc-tiktok-1'}&until=${yesterday}`),
    fc.tuple(fc.oneof(segment, videoId), queryValue).map(([w, d]) => `/v1/works/douyin/${w}/metrics?accountId=acc-douyin-1&until=${yesterday}&douyinId=${d || 'x'}&publishedAt=${addDays(yesterday, -3)}T04:00:00Z`)
  )
}
const ROUTES: RouteFuzz[] = [
  { name: '/v1/platforms', url: queryPairs(['x']).map(p => `/v1/platforms?${q(p)}`) },
  { name: '/v1/works/:platform', url: fc.oneof(near.works, fc.tuple(segment, queryPairs(['accountId', 'limit', 'cursor', 'direction', 'page', 'pageSize'])).map(([p, qs]) => `/v1/works/${p}?${q(qs)}`)) },
  { name: '/v1/works/:platform/:workId/analytics', url: fc.oneof(near.analytics, fc.tuple(fc.oneof(segment, fc.constantFrom('tiktok', 'douyin')), segment, queryPairs(['accountId', 'since', 'until'])).map(([p, w, qs]) => `/v1/works/${p}/${w}/analytics?${q(qs)}`)) },
  { name: '/v1/douyin/task-videos/daily', url: fc.oneof(near.daily, queryPairs(['billingDate', 'billingDateFrom', 'billingDateTo', 'publishedFrom', 'publishedTo', 'douyinId', 'agencyClientKey', 'page', 'pageSize', 'all']).map(qs => `/v1/douyin/task-videos/daily?${q(qs)}`)) },
  { name: '/v1/works/:platform/:workId/metrics', url: fc.oneof(near.merged, fc.tuple(fc.oneof(segment, fc.constantFrom('tiktok', 'douyin')), segment, queryPairs(['accountId', 'since', 'until', 'douyinId', 'publishedAt'])).map(([p, w, qs]) => `/v1/works/${p}/${w}/metrics?${q(qs)}`)) }
]

async function fuzzApp (t: Tap): Promise<{ s: Sandboxes, app: FastifyInstance }> {
  const s = await startSandboxes(t, { qps: 100_000 })
  const app = await stackApp(t, s, { DOUYIN_QPS: '1000', RATE_LIMIT_MAX: '0', RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0', UPSTREAM_TIMEOUT_MS: '2000', REQUEST_DEADLINE_MS: '5000' })
  return { s, app }
}

let cases = 0
let upstreamCases = 0
for (const route of ROUTES) {
  test(`fuzz ${route.name}: never a 5xx, never an unintended upstream target`, async t => {
    const { s, app } = await fuzzApp(t)
    const hosts = { ai: new URL(s.ai.url).host, dy: new URL(s.dy.url).host }
    let reached = 0
    await fc.assert(fc.asyncProperty(route.url, headers, async (url, hdrs) => {
      cases++
      s.ai.requests.length = 0
      s.dy.requests.length = 0
      const res = await app.inject({ method: 'GET', url, headers: hdrs })
      if (s.ai.requests.length + s.dy.requests.length > 0) reached++
      if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${url}: ${res.body.slice(0, 300)}`)
      if (res.statusCode >= 400 && !/^application\/problem\+json/.test(String(res.headers['content-type']))) throw new Error(`${res.statusCode} without problem+json for ${url}`)
      for (const r of s.ai.requests) {
        if (!aitoearnTargetOk(r.url) || r.headers.host !== hosts.ai) throw new Error(`AiToEarn got ${r.headers.host}${r.url} for ${url}`)
      }
      for (const r of s.dy.requests) {
        if (!douyinTargetOk(r.url) || r.headers.host !== hosts.dy) throw new Error(`Douyin got ${r.headers.host}${r.url} for ${url}`)
      }
    }), { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) })
    upstreamCases += reached
    if (route.name !== '/v1/platforms') t.ok(reached >= RUNS / 10, `${reached} of ${RUNS} cases reached an upstream (their targets were checked)`)
    else t.pass(`${RUNS} cases (the platform list is fetched once, then cached)`)
  })
}

test('fuzz totals', async t => {
  t.equal(cases >= RUNS * ROUTES.length, true, `${cases} fuzz cases run`)
  t.comment(`fuzz cases run: ${cases} (${ROUTES.length} routes x ${RUNS}); ${upstreamCases} reached an upstream`)
})
