/**
 * `npm run bench:limiter`: three BFF processes sharing one Redis, against the sandbox Douyin (which
 * enforces a strict sliding second and answers 28003018 beyond it), each offered `PER_PROCESS_RPS`
 * uncached requests per second for `SECONDS` (together three times the ceiling). Prints what the
 * upstream saw: rejections, the most requests in any one second, achieved requests per second,
 * and the callers' latency (queueing included).
 */
import { randomBytes } from 'node:crypto'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday } from '../src/sandbox/seed.js'
import { buildBff, percentile, startBff, startSandboxes } from './processes.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)
const PROCESSES = 3
const CEILING = 10
const PER_PROCESS_RPS = CEILING // three processes: 3x the ceiling
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface LimiterResult {
  offered: number
  rejectedByUpstream: number
  mostInOneSecond: number
  achievedPerSecond: number
  answered200: number
  answered503: number
  otherStatus: number
  latencyP50Ms: number
  latencyP99Ms: number
  /** Answers 200 per instance: the shared ceiling is split fairly, no instance starves. */
  servedPerInstance: number[]
}

/** `redis`: where the instances share the ceiling (one Redis by default; a cluster's REDIS_CLUSTER_NODES for scenario 8). */
export async function runLimiterBench (seconds = SECONDS, redis: Record<string, string> = { REDIS_URL }): Promise<LimiterResult> {
  const sandboxes = await startSandboxes()
  const prefix = `bench:${randomBytes(4).toString('hex')}:`
  const bffs = await Promise.all(Array.from({ length: PROCESSES }, () => startBff({
    ...redis,
    REDIS_KEY_PREFIX: prefix,
    DOUYIN_BASE_URL: sandboxes.douyin,
    DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
    DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET,
    AITOEARN_BASE_URL: sandboxes.aitoearn,
    AITOEARN_API_KEY: 'bench',
    DOUYIN_QPS: String(CEILING),
    // The daily API: each distinct query is a Douyin call (the bill is one call per date).
    DOUYIN_SOURCE: 'daily',
    // One load generator from one IP would hit the per-caller budgets: they are off here.
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_DOUYIN_UNCACHED_MAX: '0'
  })))
  try {
    const billingDate = new Date(Date.parse(`${beijingToday()}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
    // Warm each instance's token first, then count from zero.
    await Promise.all(bffs.map((b, i) => fetch(`${b.url}/v1/douyin/task-videos/daily?billingDate=${billingDate}&douyinId=warm${i}`).then(r => r.arrayBuffer())))
    await fetch(`${sandboxes.douyin}/__sandbox/stats`, { method: 'DELETE' })

    const latencies: number[] = []
    const statuses = new Map<number, number>()
    const served = bffs.map(() => 0)
    const pending: Array<Promise<void>> = []
    let n = 0
    const started = performance.now()
    // Open loop: every instance gets a request every 1000 / PER_PROCESS_RPS ms, whatever the answers do.
    for (let tick = 0; tick < seconds * PER_PROCESS_RPS; tick++) {
      const due = started + tick * (1000 / PER_PROCESS_RPS)
      const wait = due - performance.now()
      if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
      for (const [i, bff] of bffs.entries()) {
        const id = n++
        const sent = performance.now()
        // A distinct douyinId per request: a distinct cache key, so each one is an upstream call.
        pending.push(fetch(`${bff.url}/v1/douyin/task-videos/daily?billingDate=${billingDate}&douyinId=bench${id}`)
          .then(async res => {
            await res.arrayBuffer()
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
            if (res.status === 200) {
              latencies.push(performance.now() - sent)
              served[i]!++
            }
          }, () => { statuses.set(0, (statuses.get(0) ?? 0) + 1) }))
      }
    }
    await Promise.all(pending)
    const stats = await (await fetch(`${sandboxes.douyin}/__sandbox/stats`)).json() as {
      dataRequests: number, rateLimited: number, maxPerSecond: number, firstDataAt: number, lastDataAt: number
    }
    // Achieved rate: the mean number of arrivals in a one-second window, over every window that
    // fits between the first and the last arrival (sampled every 10 ms). A sliding-window limiter
    // admits in bursts, so first-to-last alone would flatter or punish a run by where it stops.
    const recorded = await (await fetch(`${sandboxes.douyin}/__sandbox/requests`)).json() as Array<{ url: string, at: number }>
    const arrivals = recorded.filter(r => r.url.includes('/query_task_video_daily_data/') && r.at >= stats.firstDataAt).map(r => r.at)
    let windows = 0
    let inWindows = 0
    for (let t = stats.firstDataAt; t + 1000 <= stats.lastDataAt; t += 10) {
      windows++
      inWindows += arrivals.filter(at => at >= t && at < t + 1000).length
    }
    const answered200 = statuses.get(200) ?? 0
    const answered503 = statuses.get(503) ?? 0
    return {
      offered: n,
      rejectedByUpstream: stats.rateLimited,
      mostInOneSecond: stats.maxPerSecond,
      achievedPerSecond: windows > 0 ? inWindows / windows : 0,
      answered200,
      answered503,
      otherStatus: n - answered200 - answered503,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      servedPerInstance: served
    }
  } finally {
    await Promise.all(bffs.map(b => b.stop()))
    await sandboxes.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildBff()
  const r = await runLimiterBench()
  console.log(`\nDouyin ceiling: ${PROCESSES} BFF processes sharing one Redis, ${PROCESSES * PER_PROCESS_RPS} req/s offered for ${SECONDS} s (3x the ceiling of ${CEILING}/s)\n`)
  console.log('| measure | value | target |')
  console.log('|---|---|---|')
  console.log(`| rejected by the upstream (28003018) | ${r.rejectedByUpstream} of ${r.rejectedByUpstream + r.answered200} calls | 0 |`)
  console.log(`| most requests in any one second at the upstream | ${r.mostInOneSecond} | <= ${CEILING} |`)
  console.log(`| achieved requests/s at the upstream | ${r.achievedPerSecond.toFixed(2)} | >= 9.5 |`)
  console.log(`| callers answered 200 / 503 (no slot before their deadline) / other | ${r.answered200} / ${r.answered503} / ${r.otherStatus} of ${r.offered} | |`)
  console.log(`| served per instance | ${r.servedPerInstance.join(' / ')} | fair |`)
  console.log(`| latency of 200s, p50 / p99 (queueing included) | ${r.latencyP50Ms.toFixed(0)} ms / ${r.latencyP99Ms.toFixed(0)} ms | |`)
}
