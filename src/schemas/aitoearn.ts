/**
 * The response bodies the AiToEarn client returns and the routes send, in the one metrics shape.
 * Static types come from the schemas, so the client and the OpenAPI document cannot drift apart.
 */
import { Type, type Static } from '@sinclair/typebox'
import { PageSchema, PlatformSchema, SeriesPointSchema, WorkSchema, emptyMetrics, type Page, type Platform, type SeriesPoint, type Work } from './metrics.js'

const Unknowable = (description: string) =>
  Type.Union([Type.Boolean(), Type.Null()], { description: `${description} null: AiToEarn did not say.` })

export const SOURCES = ['aitoearn', 'douyin_taskbox'] as const
export type SourceName = typeof SOURCES[number]

export const PlatformInfoSchema = Type.Object({
  platform: Type.Ref(PlatformSchema),
  name: Type.Optional(Type.String({ description: 'Display name (en-US) as AiToEarn gives it', examples: ['TikTok'] })),
  status: Type.Optional(Type.String({ description: "AiToEarn's status of the platform integration", examples: ['available'] })),
  capabilities: Type.Object({
    listWorks: Unknowable('`GET /v1/works/{platform}` can list an account\'s works.'),
    workAnalytics: Unknowable('`GET /v1/works/{platform}/{workId}/analytics` returns data.'),
    accountAnalytics: Unknowable('AiToEarn has account-level analytics for the platform (not served here yet).'),
    pagination: Type.Optional(Type.Object({
      mode: Type.String({ description: 'Pagination mode of the work listing', examples: ['cursor'] }),
      defaultLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size when `limit` is not given' })),
      maxLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'Largest accepted `limit`' })),
      supportsPrevious: Type.Optional(Type.Boolean({ description: 'Whether `direction=previous` works' }))
    }, { description: 'How the work listing pages, when it exists' }))
  }, { description: 'What AiToEarn supports for this platform' }),
  sources: Type.Array(Type.Union(SOURCES.map(s => Type.Literal(s))), {
    description: 'Which of our sources serve the platform: `aitoearn` (works and analytics), `douyin_taskbox` (Douyin money and conversion per day)',
    examples: [['aitoearn', 'douyin_taskbox']]
  })
}, { title: 'PlatformInfo', description: 'One platform, what it supports and which sources serve it' })
export type PlatformInfo = Static<typeof PlatformInfoSchema> & { platform: Platform }

export const PlatformsBodySchema = Type.Object({
  platforms: Type.Array(PlatformInfoSchema),
  fetchedAt: Type.String({ format: 'date-time', description: 'When the capabilities were read from AiToEarn (ISO 8601 UTC)' })
}, { title: 'Platforms', description: 'Every platform with its capabilities and sources' })
export interface PlatformsBody { platforms: PlatformInfo[], fetchedAt: string }

export const WorksPageBodySchema = Type.Object({
  platform: Type.Ref(PlatformSchema),
  items: Type.Array(Type.Ref(WorkSchema), { description: 'The works of this page, in the platform\'s order (newest first on most)' }),
  page: Type.Ref(PageSchema)
}, {
  title: 'WorksPage',
  description: "One page of an account's works with their lifetime metrics",
  examples: [{
    platform: 'tiktok',
    items: [{
      source: 'aitoearn',
      platform: 'tiktok',
      workId: '7401234567890123456',
      accountId: 'acc-tiktok-1',
      title: 'Behind the scenes',
      url: 'https://www.tiktok.com/@creator/video/7401234567890123456',
      contentType: 'video',
      publishedAt: '2026-01-20T12:00:00.000Z',
      status: 'published',
      author: { name: 'creator' },
      metrics: { ...emptyMetrics(), viewCount: 120345, likeCount: 8120, commentCount: 312, shareCount: 95 },
      extra: {}
    }],
    page: { mode: 'cursor', hasNext: true, hasPrevious: false, limit: 20, nextCursor: '++//eyJvIjoyMH0=' }
  }]
})
export interface WorksPageBody { platform: Platform, items: Work[], page: Page }

export const WorkAnalyticsBodySchema = Type.Object({
  work: Type.Ref(WorkSchema),
  series: Type.Array(Type.Ref(SeriesPointSchema), {
    description: 'Snapshots, oldest first. Most platforms give one lifetime snapshot per call; Pinterest one per day in since..until.'
  }),
  fetchedAt: Type.String({ format: 'date-time', description: 'When AiToEarn fetched the data from the platform (ISO 8601 UTC)' }),
  snapshotId: Type.Optional(Type.String({ description: 'AiToEarn\'s id of the snapshot this call saved' }))
}, { title: 'WorkAnalytics', description: "One work's metrics (`work.metrics`: the latest snapshot, not a sum) and their history" })
export interface WorkAnalyticsBody { work: Work, series: SeriesPoint[], fetchedAt: string, snapshotId?: string }
