import { Type, type Static } from '@sinclair/typebox'
import { MetricsSchema, PLATFORMS, SeriesPointSchema, WorkSchema, type Platform } from '../schemas/metrics.js'
import { ProblemSchema } from '../schemas/problem.js'
import { FormatParam } from '../schemas/csv.js'
import { MAX_ACCOUNT_ID_LENGTH, MAX_WORK_ID_LENGTH } from '../upstream/aitoearn/requests.js'
import { NO_CONTROL_PATTERN as NO_CONTROL, DATE_PATTERN as DATE } from '../schemas/patterns.js'

/** Most days one view covers. */
export const MAX_VIEW_DAYS = 31
/** Days of the default view, ending yesterday (Beijing). */
export const DEFAULT_VIEW_DAYS = 7

export const SOURCE_NAMES = ['aitoearn', 'douyin_taskbox'] as const
export type MergedSourceName = typeof SOURCE_NAMES[number]

export const MergedParams = Type.Object({
  platform: Type.Unsafe<Platform>({
    type: 'string',
    enum: [...PLATFORMS],
    description: 'Platform id, case-sensitive, as AiToEarn spells it',
    examples: ['douyin']
  }),
  workId: Type.String({
    minLength: 1,
    maxLength: MAX_WORK_ID_LENGTH,
    pattern: NO_CONTROL,
    description: "The platform's id of the work, exactly as listed (douyin: the 19-digit video id, as a string). Encode it as one path segment.",
    examples: ['7270855478333246754']
  })
})

export const MergedQuery = Type.Object({
  accountId: Type.String({
    minLength: 1,
    maxLength: MAX_ACCOUNT_ID_LENGTH,
    pattern: NO_CONTROL,
    description: 'AiToEarn account id of the work (the account must belong to the platform in the path)',
    examples: ['acc-douyin-1']
  }),
  since: Type.Optional(Type.String({
    pattern: DATE,
    title: 'First day',
    description: `First day of the view, YYYY-MM-DD, a **Beijing** date (UTC+8). Default: ${DEFAULT_VIEW_DAYS - 1} days before \`until\`. At most ${MAX_VIEW_DAYS} days from since to until, both included.`
  })),
  until: Type.Optional(Type.String({
    pattern: DATE,
    title: 'Last day',
    description: 'Last day of the view, included, a Beijing date; not after today in Beijing. Default: yesterday in Beijing (Douyin data is T+1).'
  })),
  douyinId: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: NO_CONTROL,
    description: "douyin only, optional hint: the author's Douyin id. Narrows each Douyin query to this author's videos (fewer rows, fewer pages).",
    examples: ['A79322340']
  })),
  publishedAt: Type.Optional(Type.String({
    format: 'date-time',
    maxLength: 40,
    description: 'douyin only, optional hint: when the video was published (ISO 8601 with a zone). The bill needs none (it has the time); the daily API (DOUYIN_SOURCE=daily, or standing in) needs it and answers 400 without. Trusted as given when present.',
    examples: ['2026-01-02T10:00:00+08:00']
  })),
  format: FormatParam
}, { additionalProperties: false })

export const MergedSourceSchema = Type.Object({
  name: Type.Union(SOURCE_NAMES.map(n => Type.Literal(n)), {
    description: '`aitoearn`: AiToEarn work analytics (engagement); `douyin_taskbox`: Douyin taskbox data (money per day; from the bill also engagement)'
  }),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('skipped')], {
    description: '`ok`: the source answered and its data is merged in; `error`: it failed (see `error`), its fields are null; `skipped`: the source does not apply (see `reason`)'
  }),
  reason: Type.Optional(Type.String({ description: 'Why a source was skipped', examples: ['Douyin taskbox data exists for douyin videos only'] })),
  api: Type.Optional(Type.String({ description: '`douyin_taskbox`: which Douyin API answered: `bill` (the bill file per date), `daily` (query_task_video_daily_data) or `bill+daily`', examples: ['bill'] })),
  note: Type.Optional(Type.String({ description: 'Why the daily API stood in for the bill (DOUYIN_SOURCE=auto)' })),
  error: Type.Optional(Type.Ref(ProblemSchema)),
  cacheStatus: Type.Optional(Type.String({
    description: "How the source's data was obtained: `hit`, `stale` (refreshing in the background), `coalesced`, `miss`, `revalidated`, `stale-if-error` (the worst of its cache entries)",
    examples: ['hit']
  })),
  fetchedAt: Type.Optional(Type.String({ format: 'date-time', description: "When the BFF fetched the source's data from the upstream (the oldest cache entry used), ISO 8601 UTC" }))
}, { title: 'MergedSource', description: 'One source of the merged view and how it answered' })
export type MergedSource = Static<typeof MergedSourceSchema>

export const MergedViewSchema = Type.Object({
  work: Type.Ref(WorkSchema),
  series: Type.Array(Type.Ref(SeriesPointSchema), { description: 'One point per date from since to until, oldest first, with `date` and the merged metrics of that day' }),
  totals: Type.Ref(MetricsSchema),
  currency: Type.Literal('CNY', { description: 'Every money field is in fen (1/100 CNY), integer' }),
  sources: Type.Array(MergedSourceSchema, { description: 'Always both sources, in this order: aitoearn, douyin_taskbox' })
}, {
  title: 'MergedView',
  description: 'One work over a range of days, both sources merged by date. `work` has `source: "merged"` and `work.metrics` equal `totals` (engagement: the latest AiToEarn values; money: the sum over the days). A failed source has `error`: its problem as it would be answered on its own, with this request\'s requestId.',
  headers: {
    'x-sources-complete': { type: 'string', enum: ['true', 'false'], description: '`false` when a source failed (see `sources`)' },
    etag: { type: 'string', description: 'Weak validator of the view; send it as If-None-Match for a 304' },
    'cache-status': { type: 'string', description: 'How the view was made: `hit` when every cache entry was a hit; `fwd=miss` when something was fetched; `detail=incomplete` when a source failed' }
  }
})
