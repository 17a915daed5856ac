import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** Platform ids as AiToEarn spells them (case-sensitive). */
export const PLATFORMS = [
  'douyin', 'xhs', 'wxSph', 'KWAI', 'youtube', 'wxGzh', 'bilibili', 'twitter', 'tiktok',
  'facebook', 'instagram', 'threads', 'pinterest', 'linkedin', 'google_business'
] as const
export type Platform = typeof PLATFORMS[number]

const PLATFORM_SET: ReadonlySet<unknown> = new Set(PLATFORMS)
/** True for a platform id of ours, exactly as spelled (a Set, so `constructor` is no platform). */
export function isPlatform (value: unknown): value is Platform {
  return PLATFORM_SET.has(value)
}

export const PlatformSchema = Type.Union(PLATFORMS.map(p => Type.Literal(p)), {
  $id: 'Platform',
  title: 'Platform',
  description: 'Platform id, case-sensitive, as AiToEarn spells it'
})

const count = (title: string, description: string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { title, description: `${description} Unit: count. null: the source does not report it (never 0).` })
const money = (title: string, description: string) =>
  Type.Union([Type.Integer(), Type.Null()], {
    title,
    description: `${description} Unit: integer fen (1/100 CNY), as Douyin's bill headers say (单位：分). null: not reported, or a value that was no integer fen (listed in the answer's warnings).`
  })

export const ENGAGEMENT_FIELDS = {
  viewCount: count('Views', 'Times the work was viewed.'),
  playCount: count('Plays', 'Times the video was played.'),
  impressionCount: count('Impressions', 'Times the work was shown.'),
  reachCount: count('Reach', 'Distinct accounts that saw the work.'),
  likeCount: count('Likes', 'Likes.'),
  collectCount: count('Collects', 'Times the work was added to a collection (favourites).'),
  commentCount: count('Comments', 'Comments.'),
  shareCount: count('Shares', 'Shares.'),
  saveCount: count('Saves', 'Saves.'),
  clickCount: count('Clicks', 'Clicks on the work or its links.'),
  engagementCount: count('Engagements', 'Interactions of any kind, as the platform counts them.'),
  watchTimeSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
    title: 'Watch time',
    description: 'Total watch time. Unit: seconds. null: not reported (most platforms do not).'
  })
}

export const MONEY_FIELDS = {
  activeCount: count('Effective daily active users (1 day)', 'Douyin taskbox ActiveCnt1d, the bill\'s 当日视频关联的有效日活用户数: effective daily active users of the mini app linked to the video that day (not activations).'),
  gmv: money('GMV (1 day)', 'Douyin taskbox GMV1d: gross merchandise value that day.'),
  refundGmv: money('Refunded GMV (1 day)', 'Douyin taskbox RefundGMV1d.'),
  billingGmv: money('Billed GMV (1 day)', 'Douyin taskbox BillingGMV1d.'),
  billingRefundGmv: money('Billed refunded GMV (1 day)', 'Douyin taskbox BillingRefundGMV1d.'),
  adShareCost: money('Ad share (1 day)', 'Douyin taskbox AdShareCost1d: ad revenue share.'),
  feedAdShareCost: money('Feed ad share (1 day)', 'Douyin taskbox FeedAdShareCost1d: in-feed ad revenue share.'),
  expectedProfit: money('Expected profit', 'Douyin taskbox ExpectedProfit (the daily data API only; the bill has no such column).'),
  talentProfit: money('Creator commission (1 day)', 'Douyin taskbox TalentProfit1d, the bill\'s 视频当日达人佣金: the creator\'s commission that day.')
}

/** Douyin's running totals of a video's money, to the record's date (the bill's 累计 columns; query_task_video_data's *_td). */
export const ToDateSchema = Type.Object({
  activeCount: count('Effective daily active users to date', 'Douyin: 视频累计关联的有效日活用户数 / active_cnt_td.'),
  gmv: money('GMV to date', 'Douyin: 视频累计产生的交易订单支付金额 / gmv_td.'),
  refundGmv: money('Refunded GMV to date', 'Douyin: 视频产生的交易订单累计退款金额 / refund_gmv_td.'),
  billingGmv: money('Billed GMV to date', 'Douyin: 视频累计CPS关联的交易订单支付金额 / billing_gmv_td.'),
  billingRefundGmv: money('Billed refunded GMV to date', 'Douyin: 视频CPS关联的交易订单累计退款金额 / billing_refund_gmv_td.'),
  adShareCost: money('Ad share to date', 'Douyin: 视频累计产生的广告收入 / ad_share_cost_td.'),
  feedAdShareCost: money('Feed ad share to date', 'Douyin: 视频Feed流累计产生的广告收入 / feed_ad_share_cost_td.'),
  talentProfit: money('Creator commission to date', 'Douyin: 视频累计达人佣金.'),
  expectedProfit: money('Expected profit to date', 'Douyin: expected_profit of query_task_video_data.')
}, {
  $id: 'ToDate',
  title: 'ToDate',
  description: 'Douyin\'s running totals of a video\'s money (fen) up to the record\'s date, as Douyin sends them (not summed by us). null: not reported.',
  additionalProperties: false
})
export type ToDate = Static<typeof ToDateSchema>
export const TO_DATE_NAMES = Object.keys(ToDateSchema.properties) as Array<keyof ToDate>
const NO_TO_DATE = Object.freeze(Object.fromEntries(TO_DATE_NAMES.map(n => [n, null])) as ToDate)
export const emptyToDate = (): ToDate => ({ ...NO_TO_DATE })

export const MetricsSchema = Type.Object({ ...ENGAGEMENT_FIELDS, ...MONEY_FIELDS }, {
  $id: 'Metrics',
  title: 'Metrics',
  description: 'The one metrics shape of every source. Every field is a number or null; null means the source does not report it and never stands for 0.',
  additionalProperties: false
})
export type Metrics = Static<typeof MetricsSchema>
export type MetricName = keyof Metrics
export const METRIC_NAMES = Object.keys(MetricsSchema.properties) as MetricName[]

const NO_METRICS = Object.freeze(Object.fromEntries(METRIC_NAMES.map(n => [n, null])) as Metrics)

/**
 * A Metrics record with every field null: the start of every mapping. A copy of one frozen record
 * (measured: 0.03 us, where building it with Object.fromEntries took 2 us, 20 times per page).
 */
export function emptyMetrics (): Metrics {
  return { ...NO_METRICS }
}

const opt = <T extends TSchema>(schema: T) => Type.Optional(schema)

export const WorkSchema = Type.Object({
  source: Type.Union([Type.Literal('aitoearn'), Type.Literal('douyin_taskbox'), Type.Literal('merged')], {
    description: 'Which source the record comes from (`merged`: the merged view of several)'
  }),
  platform: Type.Ref(PlatformSchema),
  workId: Type.String({ description: "The platform's id of the work, as an exact string (Douyin ids exceed 2^53)", examples: ['7270855478333246754'] }),
  accountId: opt(Type.String({ description: 'AiToEarn account id' })),
  date: opt(Type.String({ format: 'date', description: 'For daily records: the day (Douyin: billing date, Beijing time)' })),
  title: opt(Type.String()),
  description: opt(Type.String()),
  url: opt(Type.String({ description: 'Link to the work on its platform' })),
  coverUrl: opt(Type.String()),
  contentType: opt(Type.Union([Type.Literal('video'), Type.Literal('image_text'), Type.Literal('text')], {
    description: '`video`; `image_text`: images with text; `text`: text only'
  })),
  publishedAt: opt(Type.String({ format: 'date-time', description: 'Publication time, ISO 8601 UTC' })),
  status: opt(Type.String({ description: "The platform's status of the work" })),
  author: opt(Type.Object({
    name: opt(Type.String()),
    platformUid: opt(Type.String({ description: "Author's id on the platform (Douyin: the Douyin id)" }))
  })),
  task: opt(Type.Object({
    id: Type.String({ description: 'Douyin taskbox TaskId, exact decimal string' }),
    name: opt(Type.String()),
    appTitle: opt(Type.String({ description: 'Mini app title' })),
    clientName: opt(Type.String({ description: 'Agency client name' }))
  }, { description: 'Douyin taskbox task the video was made for' })),
  metrics: Type.Ref(MetricsSchema),
  toDate: opt(Type.Ref(ToDateSchema, { description: 'Douyin only: its running totals of the video\'s money up to `date`' })),
  metricsReliable: opt(Type.Boolean({
    description: '`false`: the source answered numbers that are no measurement (tiktok, and likely twitter, answer all zeros for a work id they do not know); `metrics` are then all null. Absent: the metrics are what the source reported.'
  })),
  currency: opt(Type.Literal('CNY', { description: 'Present when the record carries money; money fields are in fen' })),
  extra: Type.Record(Type.String(), Type.Unknown(), {
    description: "The source's fields that have no common name (e.g. bilibili coinCount); never secrets"
  })
}, { $id: 'Work', title: 'Work', description: 'One work (post, video) of a platform with its metrics' })
export type Work = Static<typeof WorkSchema>

export const SeriesPointSchema = Type.Object({
  at: opt(Type.String({ format: 'date-time', description: 'When the snapshot was taken (ISO 8601 UTC)' })),
  date: opt(Type.String({ format: 'date', description: 'The day the point stands for (YYYY-MM-DD)' })),
  periodStart: opt(Type.String({ format: 'date-time' })),
  periodEnd: opt(Type.String({ format: 'date-time' })),
  metrics: Type.Ref(MetricsSchema)
}, { $id: 'SeriesPoint', title: 'SeriesPoint', description: 'Metrics at one time (`at`) or for one day (`date`)' })
export type SeriesPoint = Static<typeof SeriesPointSchema>

export const PageSchema = Type.Object({
  mode: Type.Union([Type.Literal('cursor'), Type.Literal('page'), Type.Literal('none')], {
    description: '`cursor`: pass nextCursor back as `cursor`; `page`: page numbers; `none`: everything in one answer'
  }),
  hasNext: Type.Boolean(),
  hasPrevious: Type.Boolean(),
  nextCursor: opt(Type.String({ description: 'Opaque; pass back unchanged' })),
  previousCursor: opt(Type.String({ description: 'Opaque; pass back with direction=previous' })),
  limit: opt(Type.Integer({ minimum: 1 })),
  page: opt(Type.Integer({ minimum: 1 })),
  pageSize: opt(Type.Integer({ minimum: 1 })),
  total: opt(Type.Integer({ minimum: 0, description: 'Only when the source reports it' }))
}, { $id: 'Page', title: 'Page', description: 'Where this page sits and how to get the next' })
export type Page = Static<typeof PageSchema>

/** Shared schemas, registered once with addSchema and referenced by $id. */
export const SHARED_SCHEMAS = [PlatformSchema, MetricsSchema, ToDateSchema, WorkSchema, SeriesPointSchema, PageSchema]
