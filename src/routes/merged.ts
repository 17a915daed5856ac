import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { wantsRevalidation } from '../cache/http.js'
import { invalid } from '../errors.js'
import { problemResponses } from '../schemas/responses.js'
import { addDays, beijingDate, daysBetween, isCalendarDate } from '../schemas/dates.js'
import { DEFAULT_VIEW_DAYS, MAX_VIEW_DAYS, MergedParams, MergedQuery, MergedViewSchema } from '../merge/schema.js'
import { MergedViews } from '../merge/view.js'
import { VIDEO_PAGE_SIZE } from '../reads/douyin.js'
import { ANALYTICS_PLATFORMS } from '../upstream/aitoearn/platforms.js'
import { jsonOrCsv, MERGED_CSV } from '../schemas/csv.js'

const DESCRIPTION = [
  `One work over a range of days, **its sources merged by date**: engagement from AiToEarn work analytics (${ANALYTICS_PLATFORMS.join(', ')}); for a douyin video, engagement and money from the Douyin taskbox (its bill per billing date). One call, one shape, and an honest account of what is missing. In practice each work has one source: AiToEarn has no analytics for douyin works, and Douyin has data for douyin videos only.`,
  '',
  `**Dates** are **Beijing** calendar dates (Asia/Shanghai, UTC+8) for every platform. Default: the ${DEFAULT_VIEW_DAYS} days up to yesterday (Douyin data is T+1). At most ${MAX_VIEW_DAYS} days; since <= until; until not after today in Beijing (400 otherwise, before any upstream call).`,
  '',
  '**Merge rules**',
  '- Engagement metrics (views, plays, impressions, reach, likes, collects, comments, shares, saves, clicks, engagements, watch time) come from AiToEarn, or for a douyin video from Douyin\'s bill (its cumulative counts as of each billing date); money and conversion (`activeCount`, `gmv`, `refundGmv`, `billingGmv`, `billingRefundGmv`, `adShareCost`, `feedAdShareCost`, `talentProfit`, `expectedProfit`, integer **fen**) from Douyin only. A field no source reports stays `null`, never 0.',
  '- `series`: one point per date, oldest first. Engagement of a date = the latest AiToEarn snapshot read on that date (lifetime metrics are cumulative: the value as of then, not that day\'s increase). AiToEarn keeps no history: a snapshot is what one call read, placed on the Beijing date we read it (never on the publish time some platforms stamp it with), so engagement appears only on the day it was read (include today to see it); Pinterest\'s daily report is placed on its own days. For a douyin video, engagement of a date = the counts Douyin\'s bill of that date gives (cumulative: a real daily series). Money of a date = Douyin\'s row of that billing date (that day\'s values).',
  '- `totals` and `work.metrics` (equal): engagement = the latest values (AiToEarn\'s, or the latest bill\'s); money = the sum over the days; `work.toDate` = Douyin\'s running totals of the money. `work` describes the work as AiToEarn does, Douyin filling what AiToEarn lacks (title, link, author, task: from its task totals, `query_task_video_data`, one call). `work.metricsReliable: false`: AiToEarn answered all zeros for a work its platform may not know (tiktok, twitter); its metrics are null.',
  '',
  '**Sources** (`sources` is always there, aitoearn first):',
  '- `aitoearn`: for the platforms above, through the same cache entry as `GET /v1/works/{platform}/{workId}/analytics?accountId=` (Pinterest, which reports per day, with `since=<since>T00:00:00Z&until=<until>T00:00:00Z`); other platforms: `skipped`, with the reason.',
  `- \`douyin_taskbox\`: douyin only (other platforms: \`skipped\`); \`api\` says which Douyin API answered. From the bill (DOUYIN_SOURCE auto or bill): each date's bill (one link call and one download per date, shared with \`GET /v1/douyin/task-videos/daily\` and every instance), the row found by exact video id; no publication time needed; a video in none of the bills: \`skipped\`. From the daily API (DOUYIN_SOURCE=daily, or standing in for dates without a bill): one query per billing date from the later of \`since\` and the publication day, through the same cache entries as \`GET /v1/douyin/task-videos/daily?billingDate=D&publishedFrom=P&publishedTo=P&pageSize=${VIDEO_PAGE_SIZE}[&douyinId=]\` (P = the Beijing day of publication); it needs \`publishedAt\` (the hint, or the bill's): without one, 400 VALIDATION_FAILED; published more than 90 days ago: \`skipped\`.`,
  '- No source to ask (every one `skipped`): 422 `OPERATION_NOT_SUPPORTED`, its detail giving each reason, no upstream asked.',
  '',
  '**Failures**: when a source fails and another answered, the answer is still **200**; the failed source has `status: "error"` and `error` (its problem, with this request\'s `requestId`), its fields stay null, and the header `x-sources-complete: false` says so (`true` otherwise). When every source that applies fails (with one source per work: when it fails), the answer is the worst of their problems (highest status; AiToEarn first on a tie) as `application/problem+json`.',
  '',
  '**Deadline**: the whole view is bounded by `MERGED_VIEW_DEADLINE_MS` (default 10 s). A source that would miss it is reported as `error` with `UPSTREAM_TIMEOUT`; its cache fill goes on in the background, so the next call finds it.',
  '',
  '**CSV**: `Accept: text/csv` or `format=csv` gives `series` as a spreadsheet file, one row per date; `sources` stay in the JSON answer (and `x-sources-complete` in the headers).',
  '',
  '**Caching**: every source goes through the cache (stale-while-revalidate, stale-if-error) and Douyin through its rate limiter. The view has its own weak `ETag` over its body (the sources\' `cacheStatus` left out, so a cached answer keeps the validator of the one that filled it): send `If-None-Match` for a 304. `Cache-Status` summarises the sources: `hit` when every entry was a hit, `fwd=miss` when something was fetched, `detail=incomplete` when a source failed. `Cache-Control: private, max-age=<the first entry to expire>`; an incomplete view is `no-store`. Send `Cache-Control: no-cache` to revalidate every entry.'
].join('\n')

/** GET /v1/works/{platform}/{workId}/metrics: the merged metrics view. */
const mergedRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const views = new MergedViews({
    ...app.reads,
    unexpected: err => app.log.error({ err }, 'merged view: unexpected error in a source')
  }, config.mergedViewDeadlineMs)

  app.get('/v1/works/:platform/:workId/metrics', {
    config: { upstreams: ['aitoearn', 'douyin'], csv: MERGED_CSV },
    schema: {
      tags: ['works'],
      operationId: 'getWorkMetrics',
      summary: 'One work, both sources: engagement and money merged by date',
      description: DESCRIPTION,
      params: MergedParams,
      querystring: MergedQuery,
      response: {
        200: jsonOrCsv(MergedViewSchema, 'one row per date of the view (`series`), every metric'),
        304: Type.Null({ description: 'Not modified: If-None-Match names the current ETag' }),
        ...problemResponses(
          'NOT_FOUND', 'OPERATION_NOT_SUPPORTED', 'UPSTREAM_ERROR', 'UPSTREAM_AUTH', 'UPSTREAM_CAPABILITY_MISSING',
          'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_QUOTA_EXHAUSTED', 'UPSTREAM_TIMEOUT'
        )
      }
    }
  }, async (req, reply) => {
    const { platform, workId } = req.params
    const q = req.query
    const today = beijingDate(Date.now())
    const dates = viewDates(q.since, q.until, today)
    return views.reply(req, reply, {
      platform,
      workId,
      accountId: q.accountId,
      dates,
      douyinId: q.douyinId,
      publishedAt: q.publishedAt,
      today
    }, app.readContext(req, wantsRevalidation(req.headers['cache-control'])))
  })
}

/** Every date of the view, oldest first; the defaults and limits of the description. */
export function viewDates (since: string | undefined, until: string | undefined, today: string): string[] {
  if (since !== undefined && !isCalendarDate(since)) throw invalid('since', 'must be a real calendar date, YYYY-MM-DD (Beijing)')
  if (until !== undefined && !isCalendarDate(until)) throw invalid('until', 'must be a real calendar date, YYYY-MM-DD (Beijing)')
  const yesterday = addDays(today, -1)
  const last = until ?? (since !== undefined && since > yesterday ? today : yesterday)
  const first = since ?? addDays(last, 1 - DEFAULT_VIEW_DAYS)
  if (last > today) throw invalid('until', `is after today in Beijing (${today})`)
  const span = daysBetween(first, last)
  if (span < 0) throw invalid('since', 'must not be after until')
  if (span + 1 > MAX_VIEW_DAYS) throw invalid('until', `the view covers ${span + 1} days; at most ${MAX_VIEW_DAYS}`)
  return Array.from({ length: span + 1 }, (_, i) => addDays(first, i))
}

export default mergedRoutes
