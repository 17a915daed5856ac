/**
 * AiToEarn's dialect -> the one metrics shape. A metric the platform does not report is `null`,
 * never 0, even when AiToEarn sends a 0 for it (its providers zero-fill: PLATFORM_FACTS says what
 * each really fills); `contentMode` video/article/article2 -> video/image_text/text; ids stay
 * strings; times become ISO 8601 UTC; fields without a common name go to `extra`. A snapshot's
 * time is never a publish time: where the provider puts the publish time in `snapshotAt`, the
 * point is placed at the time the data was fetched.
 */
import { ENGAGEMENT_FIELDS, emptyMetrics, type MetricName, type Metrics, type Page, type Platform, type SeriesPoint, type Work } from '../../schemas/metrics.js'
import type { PlatformInfo, SourceName } from '../../schemas/aitoearn.js'
import { PLATFORM_FACTS, type PlatformFacts } from './platforms.js'
import type { UpAnalyticsData, UpListData, UpListItem, UpMetrics, UpPlatform, UpSnapshot, UpWorkSnapshot } from './upstream-schemas.js'

type ContentType = NonNullable<Work['contentType']>
const ENGAGEMENT = Object.keys(ENGAGEMENT_FIELDS) as Array<keyof typeof ENGAGEMENT_FIELDS>
const ENGAGEMENT_SET: ReadonlySet<string> = new Set(ENGAGEMENT)

// Maps, not object literals: an upstream string like `constructor` must not find a prototype member.
const CONTENT_MODES = new Map<string, ContentType>([['video', 'video'], ['article', 'image_text'], ['article2', 'text']])
/** Analytics' free-text `mediaType`, as the platforms spell it. */
const MEDIA_TYPES = new Map<string, ContentType>([
  ...['video', 'reel', 'reels', 'short', 'shorts'].map((k): [string, ContentType] => [k, 'video']),
  ...['image', 'images', 'photo', 'carousel', 'carousel_album', 'article'].map((k): [string, ContentType] => [k, 'image_text']),
  ...['text', 'article2', 'status'].map((k): [string, ContentType] => [k, 'text'])
])

function finite (v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/**
 * Known metrics into the one shape (absent -> null); other numeric fields are kept in `extra`.
 * With `filled` (what the platform's provider really fills), a metric outside it stays null when
 * AiToEarn sends 0 or nothing for it: that 0 is a zero-fill, not a count.
 */
export function mapMetrics (up: UpMetrics | null | undefined, extra: Record<string, unknown>, filled?: readonly MetricName[]): Metrics {
  const m = emptyMetrics()
  if (!up) return m
  for (const name of ENGAGEMENT) {
    const v = finite(up[name])
    m[name] = filled !== undefined && v === 0 && !filled.includes(name) ? null : v
  }
  for (const [key, value] of Object.entries(up)) {
    if (!ENGAGEMENT_SET.has(key) && typeof value === 'number' && Number.isFinite(value) && !(key in extra)) extra[key] = value
  }
  return m
}

/** Already in toISOString's form, on a day (<= 28) and hour (<= 23) that cannot roll over. */
const CANONICAL_UTC = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/

/** An ISO 8601 UTC string, or undefined when the input is not a date. */
export function isoUtc (value: string | null | undefined): string | undefined {
  if (!value) return undefined
  // Most upstream dates are already canonical: returned as they are, without a Date round trip.
  if (CANONICAL_UTC.test(value)) return value
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

function str (value: string | null | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function author (name: string | null | undefined, platformUid: string | null | undefined): Work['author'] {
  const n = str(name)
  const uid = str(platformUid)
  if (n === undefined && uid === undefined) return undefined
  const out: NonNullable<Work['author']> = {}
  if (n !== undefined) out.name = n
  if (uid !== undefined) out.platformUid = uid
  return out
}

/**
 * Leaves undefined values out, so absent fields are really absent in our objects too. Copies
 * rather than deletes: `delete` turns an object into a slow dictionary, for every later read and
 * for JSON.stringify.
 */
function compact<T extends Record<string, unknown>> (obj: T): T {
  const out: Record<string, unknown> = {}
  for (const key in obj) if (obj[key] !== undefined) out[key] = obj[key]
  return out as T
}

export function mapListItem (item: UpListItem, platform: Platform, accountId: string): Work {
  const extra: Record<string, unknown> = {}
  const metrics = mapMetrics(item.metrics, extra, PLATFORM_FACTS[platform].listMetrics)
  return compact({
    source: 'aitoearn' as const,
    platform,
    workId: item.platformWorkId,
    accountId,
    title: str(item.title),
    description: str(item.description),
    url: str(item.url),
    coverUrl: str(item.coverUrl),
    contentType: item.contentMode ? CONTENT_MODES.get(item.contentMode) : undefined,
    publishedAt: isoUtc(item.publishedAt),
    status: str(item.status),
    author: author(item.authorName, item.authorPlatformUid),
    metrics,
    extra
  })
}

export function mapPage (p: UpListData['pagination']): Page {
  const mode = p.mode === 'page' || p.mode === 'none' ? p.mode : 'cursor'
  const hasNext = p.hasNext === true
  return compact({
    mode,
    hasNext,
    hasPrevious: p.hasPrevious === true,
    // A cursor without "has next" would invite a loop; only hand it out with hasNext.
    nextCursor: hasNext ? str(p.nextCursor) : undefined,
    previousCursor: str(p.previousCursor),
    limit: p.limit ?? undefined,
    page: p.page ?? undefined,
    pageSize: p.pageSize ?? undefined,
    total: p.total ?? undefined
  })
}

function mediaType (value: string | null | undefined): ContentType | undefined {
  return value ? MEDIA_TYPES.get(value.toLowerCase()) : undefined
}

function mapWorkSnapshot (work: UpWorkSnapshot | null | undefined) {
  if (!work) return {}
  return {
    title: str(work.title),
    description: str(work.description),
    url: str(work.url),
    coverUrl: str(work.coverUrl),
    contentType: mediaType(work.mediaType),
    publishedAt: isoUtc(work.publishedAt),
    status: str(work.status),
    author: author(work.author, undefined)
  }
}

/**
 * One snapshot as a point: `at` is when the data was fetched where the provider's snapshotAt is
 * the publish time; a daily report (Pinterest) is the point of its day (`date`, UTC as reported).
 */
function mapSnapshot (s: UpSnapshot, facts: PlatformFacts, fetchedAt: string | undefined): SeriesPoint & { sortKey: number } {
  const at = facts.snapshotAtPublish ? isoUtc(s.fetchedAt) ?? fetchedAt : isoUtc(s.snapshotAt)
  const date = facts.daily && at !== undefined ? at.slice(0, 10) : undefined
  return {
    ...compact({ at, date, periodStart: isoUtc(s.periodStartAt), periodEnd: isoUtc(s.periodEndAt) }),
    metrics: mapMetrics(s.metrics, {}, facts.analyticsMetrics),
    sortKey: at ? Date.parse(at) : 0
  }
}

/**
 * True when a platform that answers zeros for an id it does not know answered only zeros and
 * nothing else about the work (no title, no publish time): its numbers are then no measurement.
 */
function unknownWork (facts: PlatformFacts, metrics: Metrics, work: UpWorkSnapshot | null | undefined): boolean {
  if (!facts.unknownAnswersZeros) return false
  if (!facts.analyticsMetrics.every(name => metrics[name] === 0)) return false
  return !work?.title && !work?.publishedAt && !work?.description
}

export function mapAnalytics (data: UpAnalyticsData, platform: Platform, accountId: string) {
  const facts = PLATFORM_FACTS[platform]
  const extra: Record<string, unknown> = { ...(data.extra ?? {}) }
  let metrics = mapMetrics(data.metrics, extra, facts.analyticsMetrics)
  const unreliable = unknownWork(facts, metrics, data.work)
  if (unreliable) metrics = emptyMetrics()
  const work: Work = compact({
    source: 'aitoearn' as const,
    platform,
    workId: data.platformWorkId,
    accountId: str(data.accountId) ?? accountId,
    ...mapWorkSnapshot(data.work),
    metrics,
    ...(unreliable ? { metricsReliable: false } : {}),
    extra
  })
  const latest = data.snapshots?.at(-1)
  const fetchedAt = isoUtc(data.fetchedAt) ?? isoUtc(latest?.fetchedAt) ?? new Date().toISOString()
  const series: SeriesPoint[] = unreliable
    ? []
    : (data.snapshots ?? [])
        .map(s => mapSnapshot(s, facts, fetchedAt))
        .sort((a, b) => a.sortKey - b.sortKey)
        .map(({ sortKey: _sortKey, ...point }) => point)
  return compact({ work, series, fetchedAt, snapshotId: str(data.snapshotId) })
}

export function mapPlatform (up: UpPlatform, platform: Platform): PlatformInfo {
  const caps = up.capabilities
  const pagination = caps?.work?.listWorksPagination
  const name = typeof up.displayName === 'string' ? up.displayName : up.displayName?.['en-US'] ?? Object.values(up.displayName ?? {})[0]
  const facts = PLATFORM_FACTS[platform]
  const listWorks = caps?.work?.listWorks ?? null
  // Our table, not AiToEarn's flag: the platform list says analytics.work for douyin and xhs,
  // whose endpoint answers "Work analytics not supported" (platforms.registry.ts counts an unused
  // crawler data source). A platform AiToEarn lists as not available has none either.
  const workAnalytics = facts.workAnalytics && caps?.analytics?.work !== false
  const sources: SourceName[] = [
    ...(listWorks === true || workAnalytics ? ['aitoearn' as const] : []),
    ...(platform === 'douyin' ? ['douyin_taskbox' as const] : [])
  ]
  return compact({
    platform,
    name: str(name),
    status: str(up.status),
    capabilities: {
      listWorks,
      workAnalytics,
      accountAnalytics: caps?.analytics?.account ?? null,
      ...(pagination?.mode
        ? {
            pagination: compact({
              mode: pagination.mode,
              defaultLimit: pagination.defaultLimit ?? undefined,
              maxLimit: pagination.maxLimit ?? undefined,
              supportsPrevious: pagination.supportsPrevious ?? undefined
            })
          }
        : {})
    },
    sources
  })
}
