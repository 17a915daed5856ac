import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DailyBodySchema } from '../schemas/douyin.js'
import { problemResponses } from '../schemas/responses.js'
import { LIMITS } from '../upstream/douyin/params.js'
import { JSON_CONTENT_TYPE } from '../cache/http.js'
import { DATE_PATTERN as DATE } from '../schemas/patterns.js'
import { replyRead } from './reply.js'
import { DOUYIN_DAILY_CSV, FormatParam, jsonOrCsv } from '../schemas/csv.js'

const DATE_OR_TIME = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?$'

const Query = Type.Object({
  billingDate: Type.Optional(Type.String({
    pattern: DATE,
    title: 'Billing date',
    description: 'The billing (data) date, YYYY-MM-DD, a **Beijing** date (Asia/Shanghai, UTC+8). Default: yesterday in Beijing (the data is T+1; recent dates can still change as settlements arrive). Not with billingDateFrom/billingDateTo.'
  })),
  billingDateFrom: Type.Optional(Type.String({
    pattern: DATE,
    description: `First billing date of a range (Beijing), with billingDateTo. At most ${LIMITS.maxRangeDays} days; one upstream query per date.`
  })),
  billingDateTo: Type.Optional(Type.String({ pattern: DATE, description: 'Last billing date of a range (Beijing), inclusive; not after today in Beijing.' })),
  publishedFrom: Type.Optional(Type.String({
    pattern: DATE_OR_TIME,
    maxLength: 40,
    description: 'Only videos published from then on: a date (00:00 Beijing) or an ISO 8601 date-time (no zone: Beijing). No older than 90 days (400 otherwise). Default: 30 days before the end of the publish window, but never older than 90 days.'
  })),
  publishedTo: Type.Optional(Type.String({
    pattern: DATE_OR_TIME,
    maxLength: 40,
    description: 'Only videos published until then: a date (23:59:59 Beijing) or an ISO 8601 date-time. Default: the end of the billing date. A window longer than 30 days is split into several upstream queries of at most 30 days, merged and de-duplicated.'
  })),
  douyinId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Only this author's videos (the author's Douyin id)", examples: ['A7932234'] })),
  agencyClientKey: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only videos of tasks of this agency (its website app client key)' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Page number, from 1, as upstream. Not with all=true. With several upstream queries (a range, a long window) the page applies to each.' })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxPageSize, description: `Rows per page and upstream query, at most ${LIMITS.maxPageSize} (Douyin's limit). Default ${LIMITS.defaultPageSize}.` })),
  all: Type.Optional(Type.Boolean({ description: 'true: every page, walked until a short page (Douyin gives no total and no has-more flag)' })),
  format: FormatParam
}, { additionalProperties: false })

const DESCRIPTION = [
  "Douyin's taskbox video data (money, conversion and engagement per video and day) in the one metrics shape.",
  '',
  '**Where it comes from** (`DOUYIN_SOURCE`, said per date in `apis`): `bill` (default under `auto`): the bill file of each billing date (`query_bill_link`, the API Douyin now recommends), downloaded once per date from Douyin\'s CDN (only hosts on `DOUYIN_BILL_HOSTS`), parsed and cached for every instance; filters, windows and pages are applied by us on that day\'s rows. `daily`: `query_task_video_daily_data` (no longer maintained by Douyin), one call per query and page. `auto`: the bill, with the daily API standing in when the bill API is missing for the app (28001018, HTTP 404) or a date has no bill yet (today: bills are T+1). `agencyClientKey` exists in the daily API only (400 under `DOUYIN_SOURCE=bill`).',
  '',
  '**Dates are Beijing dates** (Asia/Shanghai, UTC+8): billing dates, "today", ranges and the default windows are counted in Beijing time, whatever your zone.',
  '',
  '**Units**: money (`gmv`, `refundGmv`, `billingGmv`, `billingRefundGmv`, `adShareCost`, `feedAdShareCost`, `talentProfit`, `expectedProfit`) is integer **fen** (1/100 CNY), as the bill\'s headers say (单位：分). `activeCount` is the effective daily active users of the mini app linked to the video that day (ActiveCnt1d, 当日视频关联的有效日活用户数). From the bill: engagement (`playCount`, `clickCount`, `commentCount`, `likeCount`, `shareCount`) is **cumulative** (the video\'s counts up to that billing date), and `toDate` carries Douyin\'s running totals of the money; `expectedProfit` is null (the bill has no such column) and the bill has no title, link or author name. From the daily API: engagement is null. `billingGmv`/`billingRefundGmv` from the bill are its CPS-linked order amounts (our reading of the two APIs).',
  '',
  '**Odd values never fail a page**: a count or amount that is no integer (a decimal, text, a negative) is `null` for that field of that row, and listed in `warnings` (and counted in /metrics); a `VideoLink` that is no http(s) link is no `url` (kept in `extra.videoLink`).',
  '',
  '**Limits** (checked before any upstream call, 400 otherwise): publish start no older than 90 days; a publish window over 30 days is split into 30-day queries; billing-date range at most 31 days; pageSize at most 10000; from <= to; at most 100 upstream queries per request. Douyin allows 10 requests per second per app: calls are paced, and a request that cannot be served before its deadline answers 503 with Retry-After.',
  '',
  '**CSV**: `Accept: text/csv` or `format=csv` gives the items as a spreadsheet file, one row per video and day; `totals`, `apis` and `warnings` stay in the JSON answer.',
  '',
  '**Errors**: Douyin `err_no` values map to problems with `upstream.code` = the err_no and `upstream.requestId` = its `log_id`: token errors -> 502 `UPSTREAM_AUTH` (after one refresh); 28001018 -> 502 `UPSTREAM_CAPABILITY_MISSING` (request the data-analysis permission); 28003017 -> 503 `UPSTREAM_QUOTA_EXHAUSTED` with Retry-After; 28003018 / 28001052 -> 503 `UPSTREAM_RATE_LIMITED`; 28001005 / 28001006 are retried, then 502 / 503; 28001007, 28013009, 28013010 -> 400; an unknown err_no -> 502 `UPSTREAM_ERROR` keeping its number. The bill file: a link to a host off `DOUYIN_BILL_HOSTS` -> 502 `UPSTREAM_BAD_RESPONSE` (`BILL_HOST_REFUSED`, nothing fetched); an expired or refused link is asked for anew once (`BILL_LINK_EXPIRED` after that); a cut file (`BILL_TRUNCATED`), one too large (`BILL_TOO_LARGE`, DOUYIN_BILL_MAX_MB) or no readable bill (`BILL_UNREADABLE`, e.g. a required column missing, named) -> 502.'
].join('\n')

/** GET /v1/douyin/task-videos/daily */
const douyinRoutes: FastifyPluginAsyncTypebox = async app => {
  const reads = app.reads.douyin
  const headers = { 'content-type': JSON_CONTENT_TYPE }

  app.get('/v1/douyin/task-videos/daily', {
    config: { upstreams: ['douyin'], csv: DOUYIN_DAILY_CSV },
    schema: {
      tags: ['douyin'],
      operationId: 'getDouyinDailyData',
      summary: 'Daily money, conversion and engagement of Douyin taskbox videos',
      description: DESCRIPTION,
      querystring: Query,
      response: {
        200: jsonOrCsv(DailyBodySchema, 'one row per video and billing date (the video, its author and task, every metric, then Douyin\'s running totals as `toDate.*`)'),
        ...problemResponses(
          'UPSTREAM_AUTH', 'UPSTREAM_CAPABILITY_MISSING', 'UPSTREAM_ERROR', 'UPSTREAM_BAD_RESPONSE',
          'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_QUOTA_EXHAUSTED', 'UPSTREAM_TIMEOUT'
        )
      }
    }
  }, (req, reply) => {
    const { format: _format, ...params } = req.query
    return replyRead(req, reply, reads.daily(params), headers)
  })
}

export default douyinRoutes
