/**
 * CSV answers for spreadsheet apps: which routes have one, their columns, and how a request asks
 * for one. The rows are the route's JSON answer, flattened; csv-stringify writes them (RFC 4180,
 * CRLF), with a UTF-8 BOM so Excel reads the Chinese titles and headers as UTF-8.
 */
import { Type, type TSchema } from '@sinclair/typebox'
import { stringify } from 'csv-stringify/sync'
import { METRIC_NAMES, MONEY_FIELDS, TO_DATE_NAMES, type Work } from './metrics.js'

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present'

/** One column: its header and how a row's value is read from a record. */
interface Column<R> { header: string, value: (r: R) => unknown }

/** A route's CSV: the file name of a download and the rows of its JSON answer. */
export interface CsvTable {
  /** The download's file name, without `.csv`, from the answer (only [A-Za-z0-9._-] kept). */
  name: (body: unknown) => string
  /** The CSV text of a JSON answer, BOM first. */
  render: (body: unknown) => string
}

const MONEY: ReadonlySet<string> = new Set(Object.keys(MONEY_FIELDS).filter(n => n !== 'activeCount'))
/** The unit goes in the header: `gmv (fen)`; counts have none, watch time says seconds in its name. */
const unitOf = (name: string) => MONEY.has(name) ? `${name} (fen)` : name

/**
 * An id as a spreadsheet keeps it: digits only would be read as a number, and a 19-digit Douyin id
 * loses its last digits (Excel, LibreOffice and SheetJS keep 15). `="…"` makes it text in every
 * one of them; other ids are written as they are.
 */
export function idCell (id: string | undefined): string | undefined {
  if (id === undefined) return undefined
  return /^\d+$/.test(id) ? `="${id}"` : textCell(id)
}

/**
 * Text from the platforms (titles, names) as a cell: one that starts like a formula (`=`, `+`,
 * `-`, `@`, tab, CR) gets a leading `'`, so a title can never run as a formula in a spreadsheet
 * (OWASP "CSV injection").
 */
export function textCell (text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
}

const metricColumns = <R>(metrics: (r: R) => Record<string, unknown>): Array<Column<R>> =>
  METRIC_NAMES.map(n => ({ header: unitOf(n), value: r => metrics(r)[n] }))

const workColumns: Array<Column<Work>> = [
  { header: 'platform', value: w => w.platform },
  { header: 'workId', value: w => idCell(w.workId) },
  { header: 'accountId', value: w => idCell(w.accountId) },
  { header: 'date', value: w => w.date },
  { header: 'title', value: w => textCell(w.title) },
  { header: 'url', value: w => textCell(w.url) },
  { header: 'contentType', value: w => w.contentType },
  { header: 'publishedAt', value: w => w.publishedAt },
  { header: 'status', value: w => textCell(w.status) },
  { header: 'authorName', value: w => textCell(w.author?.name) },
  { header: 'authorId', value: w => idCell(w.author?.platformUid) },
  { header: 'taskId', value: w => idCell(w.task?.id) },
  { header: 'taskName', value: w => textCell(w.task?.name) },
  { header: 'metricsReliable', value: w => w.metricsReliable },
  ...metricColumns<Work>(w => w.metrics),
  ...TO_DATE_NAMES.map((n): Column<Work> => ({ header: `toDate.${unitOf(n)}`, value: w => w.toDate?.[n] }))
]

interface SeriesRow { work: Work, point: { date?: string, metrics: Record<string, unknown> } }
const seriesColumns: Array<Column<SeriesRow>> = [
  { header: 'platform', value: r => r.work.platform },
  { header: 'workId', value: r => idCell(r.work.workId) },
  { header: 'date', value: r => r.point.date },
  ...metricColumns<SeriesRow>(r => r.point.metrics)
]

function write<R> (columns: Array<Column<R>>, rows: R[]): string {
  return stringify(rows.map(r => columns.map(c => {
    const v = c.value(r)
    return v === null || v === undefined ? '' : v
  })), {
    bom: true,
    header: true,
    columns: columns.map(c => c.header),
    record_delimiter: 'windows',
    cast: { boolean: b => (b ? 'true' : 'false') }
  })
}

const fileName = (...parts: Array<string | undefined>) =>
  parts.filter(p => p !== undefined && p !== '').join('-').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120)

type Items = { items: Work[] }
type Series = { work: Work, series: SeriesRow['point'][] }

/** `GET /v1/works/{platform}`: one row per work of the page. */
export const WORKS_CSV: CsvTable = {
  name: b => fileName('works', (b as Items).items[0]?.platform, (b as Items).items[0]?.accountId),
  render: b => write(workColumns, (b as Items).items)
}

/** `GET /v1/douyin/task-videos/daily`: one row per video and billing date. */
export const DOUYIN_DAILY_CSV: CsvTable = {
  name: b => {
    const dates = [...new Set((b as Items).items.map(w => w.date ?? '').filter(Boolean))].sort()
    return fileName('douyin-daily', dates[0], dates.length > 1 ? dates.at(-1) : undefined)
  },
  render: b => write(workColumns, (b as Items).items)
}

/** `GET /v1/works/{platform}/{workId}/metrics`: one row per date of the view. */
export const MERGED_CSV: CsvTable = {
  name: b => fileName('metrics', (b as Series).work.platform, (b as Series).work.workId),
  render: b => write(seriesColumns, (b as Series).series.map(point => ({ work: (b as Series).work, point })))
}

/**
 * Whether a request gets CSV: `format=csv` (or `format=json`) decides; otherwise an Accept that
 * ranks `text/csv` above JSON (`application/json`, `application/*` or `*\/*`), or equal and
 * listed first. No Accept, `*\/*` alone: JSON. Media types are compared case-insensitively.
 */
export function wantsCsv (format: unknown, accept: string | undefined): boolean {
  if (format === 'csv') return true
  if (format === 'json' || !mayWantCsv(accept)) return false
  let csv = -1
  let json = -1
  let csvAt = Infinity
  let jsonAt = Infinity
  accept!.split(',').forEach((range, i) => {
    const [type, ...params] = range.split(';').map(s => s.trim().toLowerCase())
    const qParam = params.find(p => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q)) return
    if (type === 'text/csv' && q > csv) { csv = q; csvAt = i }
    if ((type === 'application/json' || type === 'application/*' || type === '*/*') && q > json) { json = q; jsonAt = i }
  })
  return csv > 0 && (csv > json || (csv === json && csvAt < jsonAt))
}

const CSV_MEDIA = /text\/csv/i
/** A cheap first look (the cache front door's): false means the request surely wants no CSV. */
export function mayWantCsv (accept: string | undefined): boolean {
  return accept !== undefined && CSV_MEDIA.test(accept)
}

/** The `format` query parameter of a route with a CSV answer. */
export const FormatParam = Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], {
  description: '`csv`: the same answer as CSV (UTF-8 with BOM, one header row), as `Accept: text/csv` asks. Default: JSON.'
}))

/**
 * A 200 answer documented in both representations: the JSON schema, and CSV (whose columns the
 * description names) for `Accept: text/csv` or `format=csv`.
 */
export function jsonOrCsv (schema: TSchema, rows: string): Record<string, unknown> {
  // Response headers belong to the answer, not to its JSON schema.
  const { headers, ...json } = schema as TSchema & { headers?: unknown }
  return {
    description: schema.description ?? 'OK',
    ...(headers !== undefined ? { headers } : {}),
    content: {
      'application/json': { schema: json },
      'text/csv': {
        schema: Type.String({
          description: `With \`Accept: text/csv\` or \`format=csv\`: ${rows}, as CSV (RFC 4180, CRLF, UTF-8 with a BOM, one header row). Money columns are integer fen, their header says \`(fen)\`; ids made of digits are written \`="…"\` so spreadsheet apps keep all 19 digits as text; an empty cell is null (not reported). Errors stay application/problem+json.`
        })
      }
    }
  }
}
