import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { AitoearnReads } from '../reads/aitoearn.js'
import { DouyinReads, douyinPolicy } from '../reads/douyin.js'
import { BillDays } from '../reads/douyin-bill.js'
import { BillFetcher, BillHosts } from '../upstream/douyin/bill-link.js'
import { NO_CHARGE, cachePolicies, type ReadContext } from '../reads/read.js'
import { AitoearnClient } from '../upstream/aitoearn/client.js'
import { DouyinClient } from '../upstream/douyin/client.js'
import { QueueingLimiter } from '../upstream/limiter/queue.js'
import { RedisReserver } from '../upstream/limiter/redis-reserver.js'
import { byLabel, countsOf, gaugeOf } from '../metrics/registry.js'
import { Histogram } from 'prom-client'

/**
 * Douyin counts requests as they arrive; ours leave after admission, and the time in between
 * varies (event-loop turns, timers firing late, connection set-up, the network). A window of
 * 1 s + this margin keeps any arrival-second at the ceiling even when an earlier request is
 * delayed this much more than a later one (the limiter also holds the window on actual send
 * times). Measured with the app and the Douyin sandbox starved of CPU (three busy loops on two
 * cores) through a Redis outage and back: 30 ms let 11-12 arrivals into one second in 3 of 4
 * runs, 40 ms in 0 of 4. `npm run bench:limiter` (three processes, 3x the ceiling): 0 rejections,
 * at most 10 in any second, ~9.5 req/s (the margin caps it at 10 / 1.04 s = 9.6; the cold tail of
 * upstream/http.ts costs 9.47 against 9.61 without it).
 */
export const ARRIVAL_MARGIN_MS = 40

declare module 'fastify' {
  interface FastifyInstance {
    /** One read service per source: what routes and the merged view ask. */
    reads: { aitoearn: AitoearnReads, douyin: DouyinReads }
    /** The upstream clients and the Douyin limiter, for their counters (/metrics). */
    upstreams: { aitoearn: AitoearnClient, douyin: DouyinClient, douyinLimiter: QueueingLimiter }
    /** The read context of a request: built per request object, with its caller's charge. */
    readContext: (req: FastifyRequest, noCache: boolean) => ReadContext
  }
}

/**
 * The upstream clients, the shared Douyin limiter and the read services over them and the cache.
 * Registered after `cache` and `rate-limit` (whose Douyin budget becomes each request's charge).
 */
async function readsPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const log = app.log
  const aitoearn = new AitoearnClient({ baseUrl: config.aitoearn.baseUrl, apiKey: config.aitoearn.apiKey, timeoutMs: config.upstreamTimeoutMs, log })
  const d = config.douyin
  const douyinLog = log.child({ upstream: 'douyin' })
  const douyin = new DouyinClient({
    baseUrl: d.baseUrl,
    clientKey: d.clientKey,
    clientSecret: d.clientSecret,
    accessToken: d.accessToken,
    timeoutMs: config.upstreamTimeoutMs,
    redis: app.redis,
    log: douyinLog
  })
  const windowMs = 1000 + ARRIVAL_MARGIN_MS
  const r = app.metricsRegistry
  const waits = new Histogram({
    name: 'bff_douyin_limiter_wait_seconds',
    help: 'Time admitted requests waited for a Douyin slot',
    buckets: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [r]
  })
  const limiter = new QueueingLimiter({
    name: 'douyin',
    shared: app.redis ? new RedisReserver(app.redis, 'douyin', d.qps, windowMs, randomBytes(6).toString('hex')) : null,
    limit: d.qps,
    fallbackLimit: d.qpsFallback,
    windowMs,
    maxQueue: 1000,
    horizonMs: 250,
    lateMs: ARRIVAL_MARGIN_MS,
    log: douyinLog,
    onWait: ms => waits.observe(ms / 1000)
  })
  const policies = cachePolicies(config)
  let valueWarnings = 0
  const countWarnings = (n: number) => { valueWarnings += n }
  // A bill download gets the whole request deadline (it may be tens of MiB), each read no longer than that.
  const fetcher = new BillFetcher(config.requestDeadlineMs)
  const bill = new BillDays({
    cache: app.cache,
    client: douyin,
    fetcher,
    hosts: new BillHosts(d.bill.hosts),
    maxBytes: d.bill.maxBytes,
    policy: (date, today) => douyinPolicy(policies, [date], today),
    log: douyinLog,
    countWarnings
  })
  app.decorate('reads', {
    aitoearn: new AitoearnReads({ cache: app.cache, client: aitoearn, policies, log }),
    douyin: new DouyinReads({ cache: app.cache, client: douyin, limiter, policies, maxRows: d.maxRows, log: douyinLog, source: d.source, bill, countWarnings })
  })
  countsOf(r, 'bff_douyin_value_warnings_total', 'Douyin values that were no integer count or fen (null in the answer, listed in its warnings)', [], () => valueWarnings)
  app.decorate('upstreams', { aitoearn, douyin, douyinLimiter: limiter })

  countsOf(r, 'bff_upstream_requests_total', 'Upstream HTTP attempts (retries included), by upstream and outcome: ok (an answer below 500) or the problem code', ['upstream', 'outcome'],
    () => [...byLabel('outcome', aitoearn.http.stats, { upstream: 'aitoearn' }), ...byLabel('outcome', douyin.stats.http, { upstream: 'douyin' })])
  const ls = limiter.stats
  countsOf(r, 'bff_douyin_limiter_admitted_total', 'Douyin requests admitted by the limiter (every HTTP attempt, retries included)', [], () => ls.admitted)
  countsOf(r, 'bff_douyin_limiter_rejected_total', 'Douyin requests refused by the limiter (no slot before the deadline, or the queue full)', [], () => ls.rejected)
  countsOf(r, 'bff_douyin_limiter_missed_total', 'Douyin slots given up because this process woke too late to use them (a stall); each was reserved again', [], () => ls.missed)
  countsOf(r, 'bff_douyin_limiter_cooldowns_total', 'Pauses after Douyin said too many anyway', [], () => ls.cooldowns)
  gaugeOf(r, 'bff_douyin_limiter_queue_length', 'Requests waiting for a Douyin slot in this instance', () => ls.queueLength)
  gaugeOf(r, 'bff_douyin_limiter_shared', '1 while the Douyin ceiling is kept in Redis for every instance, 0 while held in process', () => (ls.mode === 'shared' ? 1 : 0))
  const tokens = douyin.stats.tokens
  if (tokens !== undefined) {
    countsOf(r, 'bff_douyin_token_fetches_total', 'Douyin access token fetches (refreshes)', [], () => tokens.fetches)
    countsOf(r, 'bff_douyin_token_fetch_failures_total', 'Douyin access token fetches that gave no token', [], () => tokens.failures)
  }

  const charge = app.douyinUncachedBudget
  const deadlineMs = config.requestDeadlineMs
  app.decorate('readContext', (req: FastifyRequest, noCache: boolean): ReadContext => {
    return {
      requestId: req.id,
      deadline: Date.now() + deadlineMs,
      noCache,
      charge: charge === null ? NO_CHARGE : () => charge(req)
    }
  })

  app.addHook('onClose', async () => {
    limiter.close()
    await Promise.all([aitoearn.close(), douyin.close(), fetcher.close()])
  })
}

export default fp(readsPlugin, { name: 'reads', dependencies: ['redis', 'cache', 'rate-limit'] })
