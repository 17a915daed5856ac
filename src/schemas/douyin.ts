/** The bodies of the Douyin taskbox reads, in the one metrics shape. */
import { Type, type Static } from '@sinclair/typebox'
import { MetricsSchema, PageSchema, WorkSchema, type Metrics, type Page, type Work } from './metrics.js'

export const RowWarningSchema = Type.Object({
  workId: Type.String({ description: 'The video of the row' }),
  date: Type.String({ format: 'date', description: 'Its billing date' }),
  field: Type.String({ description: 'Our field that is null because of it (e.g. `expectedProfit`)' }),
  value: Type.String({ description: 'The value as Douyin sent it (at most 40 characters)' }),
  reason: Type.String({ description: '`not a number`, `not an integer`, `out of range`, `not a time`' })
}, { title: 'RowWarning', description: 'One value of one row that was no measurement we can pass on: that field is null, the rest of the row stands' })
export type RowWarning = Static<typeof RowWarningSchema>

export const ApiUsedSchema = Type.Object({
  date: Type.String({ format: 'date', description: 'A billing date of the answer' }),
  api: Type.Union([Type.Literal('bill'), Type.Literal('daily')], { description: '`bill`: from the bill file of that date (query_bill_link); `daily`: from query_task_video_daily_data' }),
  note: Type.Optional(Type.String({ description: 'Why the daily API stood in for the bill (DOUYIN_SOURCE=auto), or why the bill had no rows' }))
}, { title: 'DouyinApiUsed' })
export interface ApiUsed { date: string, api: 'bill' | 'daily', note?: string }

export const DailyBodySchema = Type.Object({
  items: Type.Array(Type.Ref(WorkSchema), {
    description: 'One record per video and day (`source: "douyin_taskbox"`, `date` = the Beijing day, `task`, `author`), de-duplicated by (video id, date). `workId` and `task.id` are exact decimal strings (Douyin ids exceed 2^53).'
  }),
  page: Type.Ref(PageSchema),
  totals: Type.Ref(MetricsSchema),
  currency: Type.Literal('CNY', { description: 'Every money field is in fen (1/100 CNY), integer' }),
  apis: Type.Array(ApiUsedSchema, { description: 'Which Douyin API each billing date came from' }),
  warnings: Type.Array(RowWarningSchema, { maxItems: 100, description: 'Values that were no integer fen or count (e.g. a fractional ExpectedProfit): that field of that row is null, the rest stands. At most 100 listed; all are counted in /metrics (bff_douyin_value_warnings_total).' })
}, {
  title: 'DouyinDaily',
  description: '`totals` of this answer (this page, or everything with all=true): money summed over the items; engagement (cumulative counts) summed over the videos, each at its latest date; a metric no item reports stays null.'
})
export interface DailyBody { items: Work[], page: Page, totals: Metrics, currency: 'CNY', apis: ApiUsed[], warnings: RowWarning[] }

/** What one upstream query (one page, or a walk of every page) gave: the per-query cache entry. */
export const QueryResultSchema = Type.Object({
  items: Type.Array(Type.Ref(WorkSchema)),
  /** The (last) page was full: more pages may follow. */
  full: Type.Boolean(),
  warnings: Type.Optional(Type.Array(RowWarningSchema))
})
export type QueryResult = Static<typeof QueryResultSchema> & { items: Work[] }
