/** The bodies of the Douyin taskbox reads, in the one metrics shape. */
import { Type, type Static } from '@sinclair/typebox'
import { MetricsSchema, PageSchema, WorkSchema, type Metrics, type Page, type Work } from './metrics.js'

export const DailyBodySchema = Type.Object({
  items: Type.Array(Type.Ref(WorkSchema), {
    description: 'One record per video and day (`source: "douyin_taskbox"`, `date` = the Beijing day, `task`, `author`), de-duplicated by (video id, date). `workId` and `task.id` are exact decimal strings (Douyin ids exceed 2^53).'
  }),
  page: Type.Ref(PageSchema),
  totals: Type.Ref(MetricsSchema),
  currency: Type.Literal('CNY', { description: 'Every money field is in fen (1/100 CNY), integer' })
}, {
  title: 'DouyinDaily',
  description: '`totals` sums the items of this answer (this page, or everything with all=true); a metric no item reports stays null.'
})
export interface DailyBody { items: Work[], page: Page, totals: Metrics, currency: 'CNY' }

/** What one upstream query (one page, or a walk of every page) gave: the per-query cache entry. */
export const QueryResultSchema = Type.Object({
  items: Type.Array(Type.Ref(WorkSchema)),
  /** The (last) page was full: more pages may follow. */
  full: Type.Boolean()
})
export type QueryResult = Static<typeof QueryResultSchema> & { items: Work[] }
