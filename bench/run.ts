/**
 * `npm run bench`: every scenario of the benchmark with its reference measured in the same run,
 * as ratios (this machine is noisy: absolute numbers mean little, ratios in one run do). Writes
 * bench/RESULTS.md and bench/results.json, and prints the table.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import { SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, publishTime } from '../src/sandbox/seed.js'
import { buildBff, percentile, startBff, startChild, startSandboxes, type Sandboxes } from './processes.js'
import { runLimiterBench } from './limiter.js'
import { OwnCluster, clusterUnavailable } from '../test/helpers/redis-cluster.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const DURATION = Number(process.env.BENCH_SECONDS ?? 10)
const LIST = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=20'

interface Row { scenario: string, measure: string, value: string, reference: string, ratio: string, target: string, pass: boolean | null }
const rows: Row[] = []
const json: Record<string, unknown> & { cacheHits?: unknown[] } = {}

function row (r: Row): void {
  rows.push(r)
  console.log(`${r.pass === false ? 'MISS' : r.pass ? 'ok  ' : '    '} ${r.scenario} | ${r.measure}: ${r.value} (ref ${r.reference}, ratio ${r.ratio}, target ${r.target})`)
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)

/**
 * Reference and subject measured in ROUNDS pairs of short slices (DURATION / 5 s each), the order
 * flipped every other pair (ABBA), and the ratio taken per pair: on a noisy machine two runs a
 * minute apart can differ by half, but two slices a second apart see the same machine. The
 * median pair ratio is the result; the spread of the pair ratios says how much to trust it.
 */
async function paired (reference: string, subject: string): Promise<{ ref: Load, sub: Load, ratio: number, spread: [number, number] }> {
  const refs: Load[] = []
  const subs: Load[] = []
  const ratios: number[] = []
  const slice = DURATION / 5
  for (let round = 0; round < ROUNDS; round++) {
    let ref: Load, sub: Load
    if (round % 2 === 0) {
      ref = await load(reference, 100, slice)
      sub = await load(subject, 100, slice)
    } else {
      sub = await load(subject, 100, slice)
      ref = await load(reference, 100, slice)
    }
    refs.push(ref)
    subs.push(sub)
    ratios.push(sub.rps / ref.rps)
  }
  const median = (list: Load[]): Load => [...list].sort((x, y) => x.rps - y.rps)[Math.floor(list.length / 2)]!
  return { ref: median(refs), sub: median(subs), ratio: percentile(ratios, 50), spread: [percentile(ratios, 25), percentile(ratios, 75)] }
}

type Load = Awaited<ReturnType<typeof load>>

async function load (url: string, connections: number, duration = DURATION) {
  const result = await autocannon({ url, connections, duration, pipelining: 1 })
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }
}

function rssMb (pid: number): number {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) / 1024
}

function bffEnv (sb: Sandboxes, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AITOEARN_BASE_URL: sb.aitoearn,
    AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY,
    DOUYIN_BASE_URL: sb.douyin,
    DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
    DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET,
    DOUYIN_BILL_HOSTS: `byteimg.com,${sb.douyinBills}`,
    LOG_LEVEL: 'warn',
    // One load generator from one IP would hit the per-caller limits: they are off here.
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0',
    ...extra
  }
}

async function count (sandboxUrl: string, pathPart: string): Promise<number> {
  const requests = await (await fetch(`${sandboxUrl}/__sandbox/requests`)).json() as Array<{ url: string }>
  return requests.filter(r => r.url.includes(pathPart)).length
}

/** The cache-hit subjects: each a BFF configuration, measured against the same bare reference. */
/** Caller budgets on, with a limit no load here reaches (the default 600 per minute would refuse the load generator). */
const BUDGETS_ON = { RATE_LIMIT_MAX: '1000000000' }
const HIT_SUBJECTS: Array<{ id: string, scenario: string, target: number, env: Record<string, string> }> = [
  { id: '1', scenario: '1 cache hit, in-process tier, caller budgets off (RATE_LIMIT_MAX=0)', target: 0.9, env: {} },
  { id: '1', scenario: '1 cache hit, defaults: caller budgets on, in-process tier', target: 0.9, env: BUDGETS_ON },
  {
    id: '2',
    scenario: '2 cache hit via Redis, caller budgets on: in-process copies kept true by Redis invalidations (defaults with REDIS_URL)',
    target: 0.8,
    env: { ...BUDGETS_ON, REDIS_URL }
  },
  {
    id: '2',
    scenario: '2 cache hit via Redis, caller budgets on: every hit checked against Redis (CACHE_LOCAL_TTL_MS=0)',
    target: 0.6,
    env: { ...BUDGETS_ON, REDIS_URL, CACHE_LOCAL_TTL_MS: '0' }
  },
  {
    id: '2',
    scenario: '2 cache hit via Redis: no in-process copies, every body read from Redis (CACHE_LOCAL_MAX_MB=0)',
    target: 0.6,
    env: { REDIS_URL, CACHE_LOCAL_TTL_MS: '0', CACHE_LOCAL_MAX_MB: '0' }
  }
]

async function cacheHitScenarios (sb: Sandboxes): Promise<void> {
  const subjects = HIT_SUBJECTS.filter(s => wanted(s.id))
  const start = (env: Record<string, string>) => startBff(bffEnv(sb, { ...env, REDIS_KEY_PREFIX: `bench:${randomBytes(4).toString('hex')}:` }))
  // The reference answers the bytes a BFF answers: taken from a first instance.
  const tmp = mkdtempSync(join(tmpdir(), 'bench-'))
  const bodyFile = join(tmp, 'body.json')
  let bff = await start(subjects[0]!.env)
  const body = Buffer.from(await (await fetch(`${bff.url}${LIST}`)).arrayBuffer())
  writeFileSync(bodyFile, body)
  const bare = await startChild('bench/bare-server.mjs', { BENCH_BODY_FILE: bodyFile }, /Server listening at (http:\/\/\S+)/)
    .catch(async err => { await bff.stop(); throw err })
  const bareUrl = `${bare.match[1]}/bare`
  try {
    // One BFF at a time beside the reference: idle instances would take their share of 2 cores.
    for (const [i, subject] of subjects.entries()) {
      if (i > 0) bff = await start(subject.env)
      try {
        // Warm up both (the first request fills the cache), then measure in pairs.
        for (const url of [bareUrl, `${bff.url}${LIST}`]) await load(url, 20, 2)
        const { ref, sub, ratio, spread } = await paired(bareUrl, `${bff.url}${LIST}`)
        const stats = await gauges(bff.url, ['bff_cache_front_door_answers_total', 'bff_cache_local_entries'])
        ;(json.cacheHits ??= []).push({ scenario: subject.scenario, env: subject.env, bff: sub, bare: ref, ratio, pairRatioQuartiles: spread, bodyBytes: body.length, ...stats })
        row({ scenario: subject.scenario, measure: 'req/s (median of pairs)', value: sub.rps.toFixed(0), reference: `${ref.rps.toFixed(0)} (bare Fastify, same bytes)`, ratio: `${ratio.toFixed(2)} (quartiles ${spread.map(r => r.toFixed(2)).join('-')})`, target: `>= ${subject.target}`, pass: ratio >= subject.target })
        row({ scenario: subject.scenario, measure: 'p50 / p99 ms', value: `${sub.p50} / ${sub.p99}`, reference: `${ref.p50} / ${ref.p99}`, ratio: '', target: '', pass: null })
        if (subject.id === '1') json.rssAfterHitsMb = rssMb(bff.pid)
      } finally {
        await bff.stop()
      }
    }
  } finally {
    await bare.stop()
  }
}

/** Sequential requests, one at a time: latency of each, in ms. */
async function latencies (url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(url, { headers })
    await res.arrayBuffer()
    out.push(performance.now() - t0)
  }
  return out
}

/**
 * Scenario 9: what tracing costs a cache hit when it is on (OTEL_EXPORTER_OTLP_ENDPOINT, spans
 * batched to a local OTLP sink that answers 200), against the same defaults with tracing off.
 */
async function tracingCost (sb: Sandboxes): Promise<void> {
  const sink = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  })
  sink.listen(0, '127.0.0.1')
  await once(sink, 'listening')
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`
  const start = (env: Record<string, string>) => startBff(bffEnv(sb, { ...BUDGETS_ON, ...env, REDIS_KEY_PREFIX: `bench:${randomBytes(4).toString('hex')}:` }))
  const off = await start({})
  const on = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })
  try {
    for (const url of [`${off.url}${LIST}`, `${on.url}${LIST}`]) await load(url, 20, 2)
    const { ref, sub, ratio, spread } = await paired(`${off.url}${LIST}`, `${on.url}${LIST}`)
    json.tracing = { off: ref, on: sub, ratio, pairRatioQuartiles: spread }
    row({ scenario: '9 cache hit with tracing on (OTLP to a local sink) vs off, defaults', measure: 'req/s (median of pairs)', value: sub.rps.toFixed(0), reference: `${ref.rps.toFixed(0)} (tracing off)`, ratio: `${ratio.toFixed(2)} (quartiles ${spread.map(r => r.toFixed(2)).join('-')})`, target: 'none: the cost of turning it on', pass: null })
  } finally {
    await Promise.all([off.stop(), on.stop()])
    sink.close()
  }
}

async function missOverhead (sb: Sandboxes): Promise<void> {
  const bff = await startBff(bffEnv(sb, { CACHE_WORKS_TTL_S: '0', CACHE_SWR_S: '0', CACHE_STALE_IF_ERROR_S: '0' }))
  try {
    const direct = `${sb.aitoearn}/api/v2/channels/works/tiktok?accountId=acc-tiktok-1&pagination%5Blimit%5D=20`
    const headers = { 'x-api-key': SANDBOX_AITOEARN_API_KEY }
    await latencies(direct, 200, headers)
    await latencies(`${bff.url}${LIST}`, 200)
    const d: number[] = []
    const b: number[] = []
    // Interleaved rounds, so both see the same machine.
    for (let round = 0; round < 5; round++) {
      d.push(...await latencies(direct, 400, headers))
      b.push(...await latencies(`${bff.url}${LIST}`, 400))
    }
    const added50 = percentile(b, 50) - percentile(d, 50)
    const added99 = percentile(b, 99) - percentile(d, 99)
    json.missOverhead = { bffP50: percentile(b, 50), bffP99: percentile(b, 99), directP50: percentile(d, 50), directP99: percentile(d, 99), added50, added99 }
    row({ scenario: '3 miss path (no cache), sandbox at 0 ms', measure: 'added p50 / p99 ms', value: `${added50.toFixed(2)} / ${added99.toFixed(2)}`, reference: `direct ${percentile(d, 50).toFixed(2)} / ${percentile(d, 99).toFixed(2)}`, ratio: '', target: '<= 1 ms at p50', pass: added50 <= 1 })
  } finally {
    await bff.stop()
  }
}

async function stampede (sb: Sandboxes): Promise<void> {
  const prefix = `bench:${randomBytes(4).toString('hex')}:`
  const bffs = await Promise.all([0, 1].map(() => startBff(bffEnv(sb, { REDIS_URL, REDIS_KEY_PREFIX: prefix }))))
  try {
    await fetch(`${sb.aitoearn}/__sandbox/requests`, { method: 'DELETE' })
    const url = '/v1/works/youtube?accountId=acc-youtube-1&limit=7'
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => fetch(`${bffs[i % 2]!.url}${url}`).then(async r => { await r.arrayBuffer(); return r.status })))
    const ok = answers.filter(s => s === 200).length
    const calls = await count(sb.aitoearn, '/works/youtube')
    json.stampede = { requests: 1000, ok, upstreamCalls: calls }
    row({ scenario: '4 cold stampede, 1000 identical requests, 2 processes + Redis', measure: 'upstream calls', value: String(calls), reference: `${ok} answered 200`, ratio: '', target: '1', pass: calls === 1 })
  } finally {
    await Promise.all(bffs.map(b => b.stop()))
  }
}

async function ceiling (redis?: Record<string, string>, name = '5 Douyin ceiling, 3 processes at 3x'): Promise<void> {
  const r = await runLimiterBench(15, redis)
  ;(json.ceiling as Record<string, unknown> | undefined) ??= {}
  ;(json.ceiling as Record<string, unknown>)[name] = r
  const ratio = r.achievedPerSecond / 10
  row({ scenario: name, measure: 'rejected by upstream', value: String(r.rejectedByUpstream), reference: '', ratio: '', target: '0', pass: r.rejectedByUpstream === 0 })
  row({ scenario: name, measure: 'most in one second', value: String(r.mostInOneSecond), reference: '', ratio: '', target: '<= 10', pass: r.mostInOneSecond <= 10 })
  row({ scenario: name, measure: 'achieved / 10', value: r.achievedPerSecond.toFixed(2), reference: '10 req/s', ratio: ratio.toFixed(3), target: '>= 0.95', pass: ratio >= 0.95 })
}

/** Douyin's counters in its sandbox: API calls (every taskbox API) and bill downloads. */
async function douyinCounts (sb: Sandboxes): Promise<{ calls: number, downloads: number }> {
  const stats = (await (await fetch(`${sb.douyin}/__sandbox/stats`)).json()) as { dataRequests: number, billDownloads: number }
  return { calls: stats.dataRequests, downloads: stats.billDownloads }
}

/** The 30-day merged view of a douyin video, cold then warm, from the bill (the default) and from the daily API. */
async function mergedView (sb: Sandboxes): Promise<void> {
  const video = DOUYIN_VIDEOS.find(v => v.publishedDaysAgo >= 31) ?? DOUYIN_VIDEOS[0]!
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
  const day = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10)
  const published = new Date(publishTime(video) * 1000).toISOString()
  const results: Record<string, { coldMs: number, calls: number, downloads: number }> = {}
  for (const source of ['bill', 'daily'] as const) {
    const bff = await startBff(bffEnv(sb, { DOUYIN_SOURCE: source }))
    try {
      // The daily API needs the publication time; the bill does not.
      const url = `${bff.url}/v1/works/douyin/${video.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${day(30)}&until=${day(1)}${source === 'daily' ? `&publishedAt=${encodeURIComponent(published)}` : ''}`
      await fetch(`${sb.douyin}/__sandbox/stats`, { method: 'DELETE' })
      await fetch(`${sb.aitoearn}/__sandbox/requests`, { method: 'DELETE' })
      const t0 = performance.now()
      const cold = await fetch(url)
      await cold.arrayBuffer()
      const coldMs = performance.now() - t0
      const { calls, downloads } = await douyinCounts(sb)
      const aitoearnCalls = await count(sb.aitoearn, '/analytics')
      const physicalMs = (calls / 10) * 1000
      const t1 = performance.now()
      const warm = await fetch(url)
      await warm.arrayBuffer()
      const warmMs = performance.now() - t1
      const after = await douyinCounts(sb)
      const warmCalls = after.calls - calls + after.downloads - downloads + (await count(sb.aitoearn, '/analytics')) - aitoearnCalls
      results[source] = { coldMs, calls, downloads }
      ;((json.mergedView ??= {}) as Record<string, unknown>)[source] = { status: cold.status, douyinCalls: calls, downloads, aitoearnCalls, coldMs, physicalMs, warmMs, warmCalls }
      const name = `6 30-day merged view, cold, ${source === 'bill' ? 'bill (default)' : 'daily API'}`
      row({ scenario: name, measure: 'Douyin API calls + downloads / wall ms', value: `${calls} + ${downloads} / ${coldMs.toFixed(0)} ms`, reference: `${physicalMs.toFixed(0)} ms (API calls / 10 per s)`, ratio: (coldMs / physicalMs).toFixed(2), target: source === 'bill' ? '<= 31 calls, 30 downloads' : '<= 1.15', pass: cold.status === 200 && (source === 'bill' ? calls <= 31 && downloads === 30 : coldMs / physicalMs <= 1.15) })
      row({ scenario: `6 30-day merged view, warm, ${source}`, measure: 'upstream calls / wall ms', value: `${warmCalls} / ${warmMs.toFixed(1)} ms`, reference: '', ratio: '', target: '0 calls', pass: warm.status === 200 && warmCalls === 0 })
    } finally {
      await bff.stop()
    }
  }
  const { bill, daily } = results
  if (bill && daily) row({ scenario: '6 30-day merged view, cold', measure: 'bill / daily API wall time', value: `${bill.coldMs.toFixed(0)} ms`, reference: `${daily.coldMs.toFixed(0)} ms (daily API)`, ratio: (bill.coldMs / daily.coldMs).toFixed(2), target: '', pass: null })
}

/** Gauges (or counters without labels) from the BFF's /metrics. */
async function gauges (url: string, names: string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Object.fromEntries(names.map(name => [name, Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)]))
}

async function gauge (url: string, name: string): Promise<number> {
  return (await gauges(url, [name]))[name]!
}

async function memory (sb: Sandboxes): Promise<void> {
  const boundMb = 16
  const bff = await startBff(bffEnv(sb, { CACHE_LOCAL_MAX_MB: String(boundMb) }))
  try {
    const before = rssMb(bff.pid)
    const keys = Number(process.env.BENCH_KEYS ?? 100_000)
    let next = 0
    const worker = async () => {
      while (next < keys) {
        const i = next++
        // A distinct work id per request: a distinct key each time (a remembered "not found").
        const res = await fetch(`${bff.url}/v1/works/tiktok/bench-${i}/analytics?accountId=acc-tiktok-1`)
        await res.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    const after = rssMb(bff.pid)
    const localMb = await gauge(bff.url, 'bff_cache_local_bytes') / 2 ** 20
    const entries = await gauge(bff.url, 'bff_cache_local_entries')
    const heapMb = await gauge(bff.url, 'nodejs_heap_size_used_bytes') / 2 ** 20
    json.memory = { rssAfterHitsMb: json.rssAfterHitsMb, rssBeforeKeysMb: before, rssAfterKeysMb: after, heapUsedMb: heapMb, localTierMb: localMb, localEntries: entries, keys, boundMb }
    row({ scenario: '7 memory', measure: 'RSS after scenario 1', value: `${Number(json.rssAfterHitsMb).toFixed(0)} MB`, reference: '', ratio: '', target: '', pass: null })
    row({ scenario: '7 memory', measure: `in-process tier after ${keys} distinct keys`, value: `${localMb.toFixed(1)} MB in ${entries} entries`, reference: `bound ${boundMb} MB`, ratio: (localMb / boundMb).toFixed(2), target: '<= 1', pass: localMb <= boundMb })
    row({ scenario: '7 memory', measure: `RSS / V8 heap used after ${keys} keys`, value: `${after.toFixed(0)} MB / ${heapMb.toFixed(0)} MB`, reference: `RSS ${before.toFixed(0)} MB before`, ratio: '', target: '', pass: null })
  } finally {
    await bff.stop()
  }
}

// BENCH_ONLY=1,3 runs those scenarios only (printed, not written: RESULTS.md is a whole run).
const only = process.env.BENCH_ONLY?.split(',').map(s => s.trim())
const wanted = (...scenarios: string[]) => only === undefined || scenarios.some(s => only.includes(s))
buildBff()
// Scenario 8: a real 3-master Redis Cluster (the test helper's), where redis-server is installed.
const cleanups: Array<() => unknown> = []
const noCluster = wanted('8') ? clusterUnavailable() : 'not asked for'
const cluster = noCluster === undefined ? await OwnCluster.start({ teardown: fn => { cleanups.push(fn) } }) : undefined
if (cluster !== undefined) {
  HIT_SUBJECTS.push({ id: '8', scenario: '8 cache hit via Redis Cluster, caller budgets on (copies checked every CACHE_LOCAL_TTL_MS)', target: 0.8, env: { ...BUDGETS_ON, REDIS_CLUSTER_NODES: cluster.nodes } })
} else if (wanted('8')) console.log(`scenario 8 skipped: ${noCluster}`)
const sandboxes = await startSandboxes()
try {
  if (wanted('1', '2', '8')) await cacheHitScenarios(sandboxes)
  if (wanted('3')) await missOverhead(sandboxes)
  if (wanted('9')) await tracingCost(sandboxes)
  if (wanted('4')) await stampede(sandboxes)
  if (wanted('6')) await mergedView(sandboxes)
  if (wanted('7')) await memory(sandboxes)
} finally {
  await sandboxes.stop()
}
if (wanted('5')) await ceiling()
if (cluster !== undefined) await ceiling({ REDIS_CLUSTER_NODES: cluster.nodes }, '8 Douyin ceiling on a 3-master Redis Cluster, 3 processes at 3x')
for (const cleanup of cleanups) await cleanup()

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
const date = new Date().toISOString()
const table = [
  '| scenario | measure | value | reference (same run) | ratio | target | met |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(r => `| ${r.scenario} | ${r.measure} | ${r.value} | ${r.reference} | ${r.ratio} | ${r.target} | ${r.pass === null ? '' : r.pass ? 'yes' : 'NO'} |`)
].join('\n')
if (only !== undefined) {
  console.log(`\n${table}`)
  process.exit(0)
}
writeFileSync('bench/RESULTS.md', `# Benchmark results\n\n${date}, ${machine}. Load: autocannon, 100 connections; cache-hit ratios are the median of ${ROUNDS} pairs of ${DURATION / 5} s slices (subject and reference alternating), the BFF run compiled (dist/) as npm start runs it, one instance at a time beside the reference.\nRatios are measured in one run against their reference; absolute numbers vary with the machine.\n\n${table}\n`)
writeFileSync('bench/results.json', `${JSON.stringify({ date, machine, rows, details: json }, null, 2)}\n`)
console.log(`\n${table}`)
