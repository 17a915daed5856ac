import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { PLATFORMS, type Platform } from '../schemas/metrics.js'
import { problemResponses } from '../schemas/responses.js'
import { WorkAnalyticsBodySchema, WorksPageBodySchema } from '../schemas/aitoearn.js'
import { JSON_CONTENT_TYPE } from '../cache/http.js'
import { replyRead } from './reply.js'
import { MAX_ACCOUNT_ID_LENGTH, MAX_CURSOR_LENGTH, MAX_LIST_LIMIT, MAX_WORK_ID_LENGTH } from '../upstream/aitoearn/requests.js'
import { ANALYTICS_PLATFORMS, platformFactsTable } from '../upstream/aitoearn/platforms.js'
import { NO_CONTROL_PATTERN as NO_CONTROL } from '../schemas/patterns.js'
import { FormatParam, jsonOrCsv, WORKS_CSV } from '../schemas/csv.js'

/** The platform path parameter: a closed, case-sensitive list (shown as an enum in the docs). */
const PlatformParam = Type.Unsafe<Platform>({
  type: 'string',
  enum: [...PLATFORMS],
  description: 'Platform id, case-sensitive, as AiToEarn spells it',
  examples: ['tiktok']
})
const AccountId = Type.String({
  minLength: 1,
  maxLength: MAX_ACCOUNT_ID_LENGTH,
  pattern: NO_CONTROL,
  description: 'AiToEarn account id (the account must belong to the platform in the path)',
  examples: ['acc-tiktok-1']
})

const ListQuery = Type.Object({
  accountId: AccountId,
  limit: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: MAX_LIST_LIMIT,
    description: 'Page size (cursor mode). Default and maximum per platform: facebook, instagram, threads, pinterest 25/100; KWAI 20/200; tiktok 20/20; twitter 10/100; youtube 25/50. Above the platform maximum: 400.',
    examples: [20]
  })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_CURSOR_LENGTH, pattern: NO_CONTROL, description: 'Opaque: `page.nextCursor` (or `page.previousCursor` with direction=previous) of the previous answer, unchanged' })),
  direction: Type.Optional(Type.Union([Type.Literal('next'), Type.Literal('previous')], { description: '`previous` works on facebook, instagram and threads only. Default next.' })),
  page: Type.Optional(Type.Integer({ minimum: 1, description: 'Page mode (with pageSize); no platform lists in page mode today: AiToEarn then answers 400' })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, description: 'Page mode page size (with page)' })),
  format: FormatParam
})

const AnalyticsQuery = Type.Object({
  accountId: AccountId,
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Start of the period, ISO 8601 with a time zone (sent to AiToEarn in UTC). Most platforms ignore it and report lifetime totals; Pinterest reports one point per day.', examples: ['2026-01-01T00:00:00Z'] })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'End of the period, ISO 8601 with a time zone; not before since', examples: ['2026-01-07T00:00:00Z'] }))
})

const works: FastifyPluginAsyncTypebox = async (app) => {
  const reads = app.reads.aitoearn
  const headers = { 'content-type': JSON_CONTENT_TYPE }

  app.get('/v1/works/:platform', {
    config: { upstreams: ['aitoearn'], csv: WORKS_CSV },
    schema: {
      tags: ['works'],
      operationId: 'listWorks',
      summary: "List an account's works with their metrics",
      description: [
        "One page of an AiToEarn account's works, each with its lifetime metrics in the one metrics shape (`null`: the platform does not report that metric).",
        'Pages with an opaque cursor: pass `page.nextCursor` back as `cursor` while `page.hasNext` is true (KWAI may end with one empty page).',
        'Platforms without a work listing (douyin, xhs, wxSph, bilibili, wxGzh, linkedin) answer 422 `OPERATION_NOT_SUPPORTED`: a normal case; see `GET /v1/platforms`.',
        '**CSV**: `Accept: text/csv` or `format=csv` gives the page as a spreadsheet file, one row per work.'
      ].join('\n\n'),
      params: Type.Object({ platform: PlatformParam }),
      querystring: ListQuery,
      response: {
        200: jsonOrCsv(WorksPageBodySchema, 'one row per work of the page (its fields, then every metric)'),
        ...problemResponses('NOT_FOUND', 'OPERATION_NOT_SUPPORTED', 'UPSTREAM_ERROR', 'UPSTREAM_AUTH', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_TIMEOUT')
      }
    }
  }, (req, reply) => {
    const { accountId, limit, cursor, direction, page, pageSize } = req.query
    return replyRead(req, reply, reads.worksPage({ platform: req.params.platform, accountId, limit, cursor, direction, page, pageSize }), headers)
  })

  app.get('/v1/works/:platform/:workId/analytics', {
    config: { upstreams: ['aitoearn'] },
    schema: {
      tags: ['works'],
      operationId: 'getWorkAnalytics',
      summary: "One work's analytics: latest metrics and their history",
      description: [
        "The work's latest metrics (`work.metrics`, the latest snapshot, not a sum) and its snapshots as `series`, oldest first.",
        'Encode `workId` as one path segment (e.g. `encodeURIComponent`); it never changes the upstream path.',
        'Every call makes AiToEarn save a snapshot: do not poll it faster than you need. AiToEarn keeps no history it would give back: `series` is what this call read (one point; Pinterest one per day of `since`..`until`).',
        `Work analytics exist for ${ANALYTICS_PLATFORMS.join(', ')} only; any other platform answers 422 \`OPERATION_NOT_SUPPORTED\` before any upstream call (AiToEarn's own platform list claims douyin and xhs too; its analytics endpoint cannot serve them).`,
        'A metric a platform never fills is `null` even when AiToEarn sends 0; a work the platform does not know may come back as all zeros (tiktok, twitter): then `work.metricsReliable` is false and the metrics are null. What each platform really reports:',
        platformFactsTable()
      ].join('\n\n'),
      params: Type.Object({
        platform: PlatformParam,
        workId: Type.String({ minLength: 1, maxLength: MAX_WORK_ID_LENGTH, pattern: NO_CONTROL, description: "The platform's id of the work, exactly as listed", examples: ['4523529281471697805'] })
      }),
      querystring: AnalyticsQuery,
      response: {
        200: WorkAnalyticsBodySchema,
        ...problemResponses('NOT_FOUND', 'OPERATION_NOT_SUPPORTED', 'UPSTREAM_ERROR', 'UPSTREAM_AUTH', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_TIMEOUT')
      }
    }
  }, (req, reply) => {
    const { accountId, since, until } = req.query
    return replyRead(req, reply, reads.analytics({ platform: req.params.platform, workId: req.params.workId, accountId, since, until }), headers)
  })
}

export default works
