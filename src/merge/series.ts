/**
 * The merge rules of the merged metrics view, as pure functions:
 * - engagement (views, plays, likes, ...) comes from AiToEarn, or for a douyin video from Douyin's
 *   bill (its cumulative counts per billing date); money (GMV, refunds, ad share, commission,
 *   expected profit, active users) from the Douyin taskbox; a field no source reports stays null;
 * - a series point per date: engagement = the latest AiToEarn snapshot placed on that date, else
 *   Douyin's row of that date (cumulative values as of then), money = Douyin's row for that
 *   billing date (that day's values);
 * - totals and work.metrics: engagement = the latest values, money = the sum over the days.
 */
import { ENGAGEMENT_FIELDS, MONEY_FIELDS, emptyMetrics, type Metrics, type Platform, type SeriesPoint, type ToDate, type Work } from '../schemas/metrics.js'
import type { WorkAnalyticsBody } from '../schemas/aitoearn.js'
import { beijingDate } from '../schemas/dates.js'

export const ENGAGEMENT = Object.keys(ENGAGEMENT_FIELDS) as Array<keyof typeof ENGAGEMENT_FIELDS>
export const MONEY = Object.keys(MONEY_FIELDS) as Array<keyof typeof MONEY_FIELDS>

export interface MergeInput {
  platform: Platform
  workId: string
  accountId: string
  /** Every date of the view, oldest first (Beijing dates). */
  dates: string[]
  /** AiToEarn's analytics, when that source answered. */
  analytics?: WorkAnalyticsBody | undefined
  /** Douyin's row of this video per billing date, when that source answered (dates without a row are absent). */
  douyin?: ReadonlyMap<string, Work> | undefined
  /** The video as Douyin's task totals describe it (title, link, author, task), when known. */
  described?: Work | undefined
  /** The publication time the view worked with (AiToEarn's, or the caller's hint). */
  publishedAt?: string | undefined
}

export interface MergedParts {
  work: Work
  series: SeriesPoint[]
  totals: Metrics
}

/**
 * The Beijing date an AiToEarn snapshot stands for: its own day when it is a daily report
 * (Pinterest), otherwise the day it was read (never the work's publish time: the mapping places
 * those points at their fetch time).
 */
export function snapshotDate (point: SeriesPoint): string | undefined {
  if (point.date !== undefined) return point.date
  const iso = point.periodStart ?? point.at
  if (iso === undefined) return undefined
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : beijingDate(ms)
}

/** One point per date: the latest snapshot's engagement of that date, Douyin's money of that date. */
export function mergeSeries (dates: string[], analytics: WorkAnalyticsBody | undefined, douyin: ReadonlyMap<string, Work> | undefined): SeriesPoint[] {
  const latest = new Map<string, Metrics>()
  // Snapshots come oldest first: a later one of the same date replaces an earlier one.
  for (const point of analytics?.series ?? []) {
    const date = snapshotDate(point)
    if (date !== undefined) latest.set(date, point.metrics)
  }
  return dates.map(date => {
    const metrics = emptyMetrics()
    const snap = latest.get(date)
    const row = douyin?.get(date)
    const engagement = snap ?? row?.metrics
    if (engagement) for (const name of ENGAGEMENT) metrics[name] = engagement[name]
    if (row) for (const name of MONEY) metrics[name] = row.metrics[name]
    return { date, metrics }
  })
}

/** The row of the latest billing date. */
function newest (dates: string[], douyin: ReadonlyMap<string, Work> | undefined): Work | undefined {
  let d: Work | undefined
  for (const date of dates) d = douyin?.get(date) ?? d
  return d
}

/**
 * Engagement: AiToEarn's latest values, else Douyin's as of the latest billing date that has them
 * (its counts are cumulative); money: the sum over the days (null when no day reports it).
 */
export function mergeTotals (analytics: WorkAnalyticsBody | undefined, douyin: ReadonlyMap<string, Work> | undefined, dates: string[] = [...(douyin?.keys() ?? [])].sort()): Metrics {
  const totals = emptyMetrics()
  if (analytics) for (const name of ENGAGEMENT) totals[name] = analytics.work.metrics[name]
  else {
    // Each count as of the latest date that has it (a date the daily API stood in for has none).
    for (const date of dates) {
      const m = douyin?.get(date)?.metrics
      if (m) for (const name of ENGAGEMENT) totals[name] = m[name] ?? totals[name]
    }
  }
  for (const row of douyin?.values() ?? []) {
    for (const name of MONEY) {
      const v = row.metrics[name]
      if (v !== null) totals[name] = (totals[name] ?? 0) + v
    }
  }
  return totals
}

/** The work record: AiToEarn's description of the work, Douyin's where AiToEarn has none. */
export function mergeWork (input: MergeInput, metrics: Metrics): Work {
  const a = input.analytics?.work
  // The newest Douyin row describes the video best (title, link, author, task); the bill's rows
  // say less, what the task totals said fills the rest.
  const latest = newest(input.dates, input.douyin)
  const t = input.described
  let d = latest ?? t
  if (latest && t) {
    d = { ...latest }
    if (t.title !== undefined) d.title ??= t.title
    if (t.url !== undefined) d.url ??= t.url
    if (t.author !== undefined) d.author = { ...t.author, ...latest.author }
    if (t.task !== undefined) d.task = { ...t.task, ...latest.task }
  }
  const work: Work = {
    source: 'merged',
    platform: input.platform,
    workId: input.workId,
    accountId: a?.accountId ?? input.accountId,
    metrics,
    extra: { ...(a?.extra ?? {}) }
  }
  const title = a?.title ?? d?.title
  if (title !== undefined) work.title = title
  if (a?.description !== undefined) work.description = a.description
  const url = a?.url ?? d?.url
  if (url !== undefined) work.url = url
  if (a?.coverUrl !== undefined) work.coverUrl = a.coverUrl
  const contentType = a?.contentType ?? d?.contentType
  if (contentType !== undefined) work.contentType = contentType
  const publishedAt = a?.publishedAt ?? input.publishedAt ?? d?.publishedAt
  if (publishedAt !== undefined) work.publishedAt = publishedAt
  if (a?.status !== undefined) work.status = a.status
  const author = { ...(d?.author ?? {}), ...(a?.author ?? {}) }
  if (Object.keys(author).length > 0) work.author = author
  if (d?.task !== undefined) work.task = d.task
  const toDate: ToDate | undefined = latest?.toDate ?? t?.toDate
  if (toDate !== undefined) work.toDate = toDate
  if (MONEY.some(name => metrics[name] !== null)) work.currency = 'CNY'
  return work
}

/** The merged record of one work over `dates`. */
export function mergeView (input: MergeInput): MergedParts {
  const totals = mergeTotals(input.analytics, input.douyin, input.dates)
  return {
    work: mergeWork(input, { ...totals }),
    series: mergeSeries(input.dates, input.analytics, input.douyin),
    totals
  }
}
