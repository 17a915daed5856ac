/**
 * The shapes AiToEarn sends, as TypeBox schemas compiled once at module load. Every body is
 * checked against them at the boundary; a mismatch is 502 UPSTREAM_BAD_RESPONSE. Tolerant where
 * the docs and the server disagree or are silent (optional fields, nulls, extra keys), strict on
 * what the mapping relies on (ids are strings, items are an array, metrics are numbers).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

const opt = <T extends TSchema>(s: T) => Type.Optional(s)
const maybe = <T extends TSchema>(s: T) => Type.Optional(Type.Union([s, Type.Null()]))
const Num = maybe(Type.Number())

/** `{ code, message, data, timestamp, requestId }`, errors and successes alike (HTTP 200). */
export const EnvelopeSchema = Type.Object({
  code: Type.Number(),
  message: maybe(Type.String()),
  data: opt(Type.Unknown()),
  requestId: maybe(Type.String()),
  timestamp: maybe(Type.Number())
})
export type UpEnvelope = Static<typeof EnvelopeSchema>

export const UpMetricsSchema = Type.Object({
  viewCount: Num,
  playCount: Num,
  impressionCount: Num,
  reachCount: Num,
  likeCount: Num,
  collectCount: Num,
  commentCount: Num,
  shareCount: Num,
  saveCount: Num,
  clickCount: Num,
  engagementCount: Num,
  watchTimeSeconds: Num
}, { additionalProperties: Type.Unknown() })
export type UpMetrics = Static<typeof UpMetricsSchema>

const Extra = Type.Record(Type.String(), Type.Unknown())

export const UpListItemSchema = Type.Object({
  platformWorkId: Type.String({ minLength: 1 }),
  contentMode: maybe(Type.String()),
  title: maybe(Type.String()),
  description: maybe(Type.String()),
  url: maybe(Type.String()),
  coverUrl: maybe(Type.String()),
  publishedAt: maybe(Type.String()),
  authorName: maybe(Type.String()),
  authorPlatformUid: maybe(Type.String()),
  status: maybe(Type.String()),
  metrics: maybe(UpMetricsSchema)
})
export type UpListItem = Static<typeof UpListItemSchema>

export const UpListDataSchema = Type.Object({
  platform: Type.String(),
  items: Type.Array(UpListItemSchema),
  pagination: Type.Object({
    mode: Type.String(),
    hasNext: maybe(Type.Boolean()),
    hasPrevious: maybe(Type.Boolean()),
    nextCursor: maybe(Type.String()),
    previousCursor: maybe(Type.String()),
    limit: maybe(Type.Integer({ minimum: 1 })),
    page: maybe(Type.Integer({ minimum: 1 })),
    pageSize: maybe(Type.Integer({ minimum: 1 })),
    total: maybe(Type.Integer({ minimum: 0 }))
  })
})
export type UpListData = Static<typeof UpListDataSchema>

export const UpWorkSnapshotSchema = Type.Object({
  id: maybe(Type.String()),
  url: maybe(Type.String()),
  title: maybe(Type.String()),
  description: maybe(Type.String()),
  mediaType: maybe(Type.String()),
  coverUrl: maybe(Type.String()),
  publishedAt: maybe(Type.String()),
  status: maybe(Type.String()),
  author: maybe(Type.String())
})
export type UpWorkSnapshot = Static<typeof UpWorkSnapshotSchema>

export const UpSnapshotSchema = Type.Object({
  id: maybe(Type.String()),
  platformWorkId: maybe(Type.String()),
  snapshotAt: Type.String(),
  fetchedAt: maybe(Type.String()),
  periodStartAt: maybe(Type.String()),
  periodEndAt: maybe(Type.String()),
  work: maybe(UpWorkSnapshotSchema),
  metrics: maybe(UpMetricsSchema),
  extra: maybe(Extra)
})
export type UpSnapshot = Static<typeof UpSnapshotSchema>

export const UpAnalyticsDataSchema = Type.Object({
  platform: Type.String(),
  platformWorkId: Type.String(),
  accountId: maybe(Type.String()),
  work: maybe(UpWorkSnapshotSchema),
  metrics: maybe(UpMetricsSchema),
  snapshots: maybe(Type.Array(UpSnapshotSchema)),
  extra: maybe(Extra),
  snapshotId: maybe(Type.String()),
  fetchedAt: maybe(Type.String()),
  message: maybe(Type.String())
})
export type UpAnalyticsData = Static<typeof UpAnalyticsDataSchema>

const Flag = maybe(Type.Boolean())
export const UpPlatformSchema = Type.Object({
  platform: Type.String({ minLength: 1 }),
  displayName: maybe(Type.Union([Type.String(), Type.Record(Type.String(), Type.String())])),
  status: maybe(Type.String()),
  capabilities: maybe(Type.Object({
    analytics: maybe(Type.Object({ account: Flag, work: Flag })),
    work: maybe(Type.Object({
      listWorks: Flag,
      listWorksPagination: maybe(Type.Object({
        mode: maybe(Type.String()),
        defaultLimit: maybe(Type.Integer({ minimum: 1 })),
        maxLimit: maybe(Type.Integer({ minimum: 1 })),
        supportsPrevious: Flag
      }))
    }))
  }))
})
export type UpPlatform = Static<typeof UpPlatformSchema>

/** The platforms list: the server's controller is not in the docs, so an array or a wrapper is taken. */
export const UpPlatformsDataSchema = Type.Union([
  Type.Array(UpPlatformSchema),
  Type.Object({ list: Type.Array(UpPlatformSchema) }),
  Type.Object({ items: Type.Array(UpPlatformSchema) }),
  Type.Object({ platforms: Type.Array(UpPlatformSchema) })
])
export type UpPlatformsData = Static<typeof UpPlatformsDataSchema>

export const Envelope = TypeCompiler.Compile(EnvelopeSchema)
export const ListData = TypeCompiler.Compile(UpListDataSchema)
export const AnalyticsData = TypeCompiler.Compile(UpAnalyticsDataSchema)
export const PlatformsData = TypeCompiler.Compile(UpPlatformsDataSchema)
