/**
 * The Douyin bill source: one bill file per billing date (`query_bill_link`, then the file from
 * Douyin's CDN), parsed once and cached as that date's entry, shared by every request, route and
 * instance (the cache's cross-instance fill lock: one download per date across the fleet). A fill
 * charges the caller once per link it asks for and takes a limiter slot for it; the download
 * itself is no Douyin API call. An expired or refused link is asked for anew once.
 */
import { cacheKey, type CachePolicy, type CacheResult, type ReadThrough } from '../cache/cache.js'
import type { Entry } from '../cache/entry.js'
import { byteLru } from '../cache/memory-store.js'
import { HttpProblem } from '../errors.js'
import type { DouyinClient } from '../upstream/douyin/client.js'
import { BillDay, parseBill } from '../upstream/douyin/bill-csv.js'
import { LinkRejected, failure, linkExpiresAt, type BillFetcher, type BillHosts } from '../upstream/douyin/bill-link.js'
import type { Admission } from '../upstream/limiter/types.js'
import { CachedRead, type Log, type ReadContext } from './read.js'

/** Where the taskbox data comes from (DOUYIN_SOURCE). */
export type DouyinSource = 'auto' | 'bill' | 'daily'

/** After the bill API says this app lacks it (or it is gone), `auto` goes to the daily API this long before asking again. */
const BILL_UNAVAILABLE_MS = 10 * 60_000
/** A link this close to its expiry is not used: the download could outlast it. */
const EXPIRY_MARGIN_S = 5

export interface BillOptions {
  cache: ReadThrough
  client: DouyinClient
  fetcher: BillFetcher
  hosts: BillHosts
  maxBytes: number
  policy: (date: string, today: string) => CachePolicy
  log: Log
  /** Counted for /metrics: values of the bill that were no integer (warnings). */
  countWarnings: (n: number) => void
}

/** One billing date from the bill source: its parsed day, or why there is none. */
export type BillOutcome =
  | { kind: 'day', day: BillDay, result: CacheResult }
  /** Douyin has no bill for this date (not generated yet, or out of range): an answer, cached briefly. */
  | { kind: 'none', reason: string, result: CacheResult }
  /** The bill API cannot serve this app (capability missing, or the API is gone): `auto` uses the daily API. */
  | { kind: 'unavailable', reason: string }

export class BillDays {
  /** Parsed days by their entry's validator: each indexed once per content. */
  private readonly days = byteLru<BillDay>(64 * 1024 * 1024, d => d.size * 2)
  private unavailableUntil = 0
  private unavailableReason = ''

  constructor (private readonly opts: BillOptions) {}

  /**
   * The bill of one date, through its cache entry. Throws the bill's own problems (a refused host,
   * a broken file). `admissionOf`: how a fill asks the limiter, from the fill's own context (a
   * background refresh asks as background work, not with the priority of the caller who found it stale).
   */
  async day (date: string, today: string, ctx: ReadContext, admissionOf: (ctx: ReadContext) => Admission, source: DouyinSource): Promise<BillOutcome> {
    if (source === 'auto' && Date.now() < this.unavailableUntil) return { kind: 'unavailable', reason: this.unavailableReason }
    let result: CacheResult
    try {
      result = await this.read(date, today, admissionOf).get(ctx)
    } catch (err) {
      const why = source === 'auto' && err instanceof HttpProblem ? unavailable(err) : undefined
      if (why === undefined || !(err instanceof HttpProblem)) throw err
      this.unavailableUntil = Date.now() + BILL_UNAVAILABLE_MS
      this.unavailableReason = why
      this.opts.log.warn({ reqId: ctx.requestId, code: err.code, upstreamCode: err.upstream?.code }, `Douyin bill API unavailable (${why}); using the daily API for ${BILL_UNAVAILABLE_MS / 60_000} minutes`)
      return { kind: 'unavailable', reason: why }
    }
    if (result.entry.status !== 200) return { kind: 'none', reason: `Douyin has no bill for ${date} (not generated yet, or out of its 180 days)`, result }
    return { kind: 'day', day: this.view(result.entry), result }
  }

  private read (date: string, today: string, admissionOf: (ctx: ReadContext) => Admission): CachedRead {
    const policy = this.opts.policy(date, today)
    const key = cacheKey(policy, this.opts.client.fingerprint, { scope: 'bill', date })
    return new CachedRead(this.opts.cache, key, policy, ctx => this.fill(date, ctx, admissionOf(ctx)))
  }

  private view (entry: Entry): BillDay {
    let day = this.days.get(entry.etag)
    if (day === undefined) {
      day = new BillDay(entry.body)
      this.days.set(entry.etag, day)
    }
    return day
  }

  /** Link, download, parse: a fresh link once more when the first was expired, refused by the CDN, or cut. */
  private async fill (date: string, ctx: ReadContext, admission: Admission): Promise<Buffer> {
    const { client, fetcher, log } = this.opts
    for (let attempt = 0; ; attempt++) {
      await ctx.charge()
      const link = await client.billLink(date, ctx, attempt === 0 ? admission : { ...admission, admit: async (_retry, tailMs) => { await admission.admit(true, tailMs) } })
      if (link === undefined) throw new HttpProblem('NOT_FOUND', { detail: `Douyin has no bill for ${date} yet`, upstream: { name: 'douyin', code: 'NO_BILL' } })
      const again = attempt === 0
      const expires = linkExpiresAt(link)
      if (expires !== undefined && expires < Date.now() / 1000 + EXPIRY_MARGIN_S) {
        log.warn({ reqId: ctx.requestId, date, expires }, `Douyin handed out an expired bill link${again ? '; asking for a new one' : ' twice'}`)
        if (again) continue
        throw new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `Douyin handed out expired bill links for ${date}, twice`, upstream: { name: 'douyin', code: 'BILL_LINK_EXPIRED' } })
      }
      try {
        const file = await fetcher.fetch(link, {
          hosts: this.opts.hosts,
          maxBytes: this.opts.maxBytes,
          deadline: ctx.deadline,
          refused: (host, why) => log.warn({ reqId: ctx.requestId, date, host, why }, 'Douyin bill link refused: nothing fetched')
        })
        const parsed = await parseBill(file.body, date, this.opts.countWarnings)
        return parsed.body
      } catch (err) {
        // A stream that broke off mid-file arrives here as a raw socket error: a problem first.
        const problem = failure(err, ctx.deadline)
        const retry = problem instanceof LinkRejected || problem.upstream?.code === 'BILL_TRUNCATED'
        if (!retry || !again) throw problem
        log.warn({ reqId: ctx.requestId, date, code: problem.upstream?.code }, 'Douyin bill download failed; asking for a new link once')
      }
    }
  }
}

/** Why the bill API cannot serve this app at all, when that is what a problem says. */
function unavailable (err: HttpProblem): string | undefined {
  if (err.code === 'UPSTREAM_CAPABILITY_MISSING') return 'the app lacks the bill capability (28001018)'
  if (err.upstream?.name === 'douyin' && err.upstream.code === 'HTTP_404') return 'the bill API answered HTTP 404'
  return undefined
}
