/**
 * CSV answers (issue 19) as a spreadsheet app reads them: SheetJS, which parses a CSV the way Excel
 * does (digits become numbers, a 19-digit id loses its tail unless it is text), and csv-parse for
 * the strict RFC 4180 reading. The service is real, over its sandboxes.
 */
import { test } from 'tap'
import XLSX from 'xlsx'
import { parse } from 'csv-parse/sync'
import { stackApp as app, startSandboxes as sandboxes } from './helpers/stack.js'
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, beijingToday } from '../src/sandbox/seed.js'
import { addDays } from '../src/schemas/dates.js'
import { WORKS_CSV, idCell, textCell, wantsCsv } from '../src/schemas/csv.js'

const BOM = '\uFEFF'
const yesterday = () => addDays(beijingToday(), -1)

/** The rows of a CSV as a spreadsheet app shows them: header row first, every cell as read (a YYYY-MM-DD is a date cell). */
function spreadsheet (csv: Buffer): Array<Record<string, unknown>> {
  const book = XLSX.read(csv, { type: 'buffer', cellDates: true })
  return XLSX.utils.sheet_to_json(book.Sheets[book.SheetNames[0]!]!, { defval: null })
}

/** A date cell as the calendar day it shows. */
function day (cell: unknown): string | undefined {
  if (!(cell instanceof Date)) return undefined
  const two = (n: number) => String(n).padStart(2, '0')
  return `${cell.getFullYear()}-${two(cell.getMonth() + 1)}-${two(cell.getDate())}`
}

test('works list as CSV: one row per work, ids exact in a spreadsheet, BOM, attachment, Vary', async t => {
  const a = await app(t, await sandboxes(t))
  const url = '/v1/works/tiktok?accountId=acc-tiktok-1&limit=5'
  const json = await a.inject({ url })
  t.equal(json.statusCode, 200, 'JSON answer')
  t.equal(json.headers.vary, 'Accept', 'the JSON answer says it varies by Accept')
  const items = json.json().items as Array<{ workId: string, title?: string, metrics: { viewCount: number | null } }>
  t.ok(items.length > 1, `${items.length} works`)

  const res = await a.inject({ url, headers: { accept: 'text/csv' } })
  t.equal(res.statusCode, 200, 'CSV answer')
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8; header=present')
  t.equal(res.headers['content-disposition'], 'attachment; filename="works-tiktok-acc-tiktok-1.csv"')
  t.equal(res.headers.vary, 'Accept')
  t.ok(res.rawPayload.subarray(0, 3).equals(Buffer.from(BOM)), 'UTF-8 BOM first')
  t.match(res.headers.etag, /\.csv1"$/, 'its own validator (with the column layout)')
  t.not(res.headers.etag, json.headers.etag)

  const rows = spreadsheet(res.rawPayload)
  t.equal(rows.length, items.length, 'one row per work')
  t.same(rows.map(r => r.workId), items.map(w => w.workId), 'ids exactly as in the JSON answer, as text')
  t.same(rows.map(r => r['viewCount']), items.map(w => w.metrics.viewCount), 'counts as numbers')
  t.ok('gmv (fen)' in rows[0]!, 'money columns say their unit')

  const strict = parse(res.rawPayload, { bom: true, columns: true }) as Array<Record<string, string>>
  t.equal(strict.length, items.length, 'csv-parse reads as many rows')
  t.equal(res.payload.split('\r\n').length, items.length + 2, 'CRLF records: header, rows, final line end')

  const head = await a.inject({ method: 'HEAD', url, headers: { accept: 'TEXT/CSV' } })
  t.equal(head.statusCode, 200, 'HEAD, Accept in capitals')
  t.equal(head.headers['content-type'], res.headers['content-type'], 'HEAD says CSV as GET does')
  t.equal(head.headers['content-length'], String(res.rawPayload.length), 'with the CSV\'s length')
  t.equal(head.headers.etag, res.headers.etag)
  t.equal(head.payload, '', 'and no body')
})

test('Douyin daily data as CSV: 19-digit video and task ids survive a spreadsheet, money in fen', async t => {
  const a = await app(t, await sandboxes(t))
  const url = `/v1/douyin/task-videos/daily?billingDate=${yesterday()}`
  const json = await a.inject({ url })
  t.equal(json.statusCode, 200, 'JSON answer')
  const items = json.json().items as Array<{ workId: string, task?: { id: string }, metrics: { gmv: number | null } }>
  t.ok(items.length > 0, `${items.length} video rows`)
  t.ok(items.every(w => /^\d{19}$/.test(w.workId)), 'the sandbox has 19-digit ids')

  const res = await a.inject({ url: `${url}&format=csv` })
  t.equal(res.statusCode, 200, 'CSV by format=csv')
  t.equal(res.headers['content-disposition'], `attachment; filename="douyin-daily-${yesterday()}.csv"`)
  t.match(res.headers['cache-status'], /hit/, 'format is no part of the cache key: the JSON answer\'s entry')
  const rows = spreadsheet(res.rawPayload)
  t.equal(rows.length, items.length, 'one row per video and day')
  t.same(rows.map(r => r.workId), items.map(w => w.workId), 'video ids exact (all 19 digits)')
  t.same(rows.map(r => r.taskId ?? undefined), items.map(w => w.task?.id), 'task ids exact')
  t.same(rows.map(r => r['gmv (fen)']), items.map(w => w.metrics.gmv), 'GMV in integer fen')
  t.same(rows.map(r => day(r.date)), items.map(() => yesterday()), 'the billing date on each row, a date cell')
})

test('the merged view as CSV: one row per date of the view', async t => {
  const a = await app(t, await sandboxes(t))
  const v = DOUYIN_VIDEOS[0]!
  const since = addDays(yesterday(), -6)
  const url = `/v1/works/douyin/${v.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&since=${since}&until=${yesterday()}`
  const json = await a.inject({ url })
  t.equal(json.statusCode, 200, 'JSON answer')
  const series = json.json().series as Array<{ date: string, metrics: { gmv: number | null } }>
  const res = await a.inject({ url, headers: { accept: 'text/csv;q=0.9, application/json;q=0.5' } })
  t.equal(res.statusCode, 200, 'CSV by Accept')
  t.equal(res.headers['x-sources-complete'], 'true', 'the completeness header stays')
  const rows = spreadsheet(res.rawPayload)
  t.equal(rows.length, 7, 'seven dates, seven rows')
  t.same(rows.map(r => day(r.date)), series.map(p => p.date), 'one date per row, oldest first')
  t.same(rows.map(r => r.workId), series.map(() => v.videoId), 'the video id on each row, exact')
  t.same(rows.map(r => r['gmv (fen)']), series.map(p => p.metrics.gmv))

  const again = await a.inject({ url: `${url}&format=csv`, headers: { 'if-none-match': res.headers.etag as string } })
  t.equal(again.statusCode, 304, 'its CSV validator gives a 304')
  t.equal(again.headers.etag, res.headers.etag)
  const jsonTag = await a.inject({ url: `${url}&format=csv`, headers: { 'if-none-match': json.headers.etag as string } })
  t.equal(jsonTag.statusCode, 200, 'the JSON validator does not stand for the CSV')
})

test('the front door never answers JSON to a CSV request, nor learns a CSV URL', async t => {
  const a = await app(t, await sandboxes(t))
  await a.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(a.server.address() as { port: number }).port}`
  const url = `${base}/v1/works/tiktok?accountId=acc-tiktok-1&limit=5`
  for (let i = 0; i < 2; i++) t.equal((await fetch(url)).status, 200, `JSON ${i + 1}: learned by the front door`)
  const served = a.frontDoor!.served
  const csv = await fetch(url, { headers: { accept: 'text/csv' } })
  t.match(csv.headers.get('content-type'), /^text\/csv/, 'the same URL with Accept: text/csv is CSV')
  t.equal(a.frontDoor!.served, served, 'not the front door')
  for (let i = 0; i < 2; i++) {
    const r = await fetch(`${url}&format=csv`)
    t.match(r.headers.get('content-type'), /^text\/csv/, `format=csv ${i + 1}: CSV`)
  }
  t.equal(a.frontDoor!.served, served, 'a format=csv URL is never learned')
  const hit = await fetch(url)
  t.match(hit.headers.get('content-type'), /^application\/json/)
  t.equal(a.frontDoor!.served, served + 1, 'JSON hits still come from the front door')
})

test('a failing CSV request is problem+json; an unknown format is a 400', async t => {
  const a = await app(t, await sandboxes(t))
  const bad = await a.inject({ url: '/v1/works/tiktok?accountId=acc-tiktok-1&format=xlsx' })
  t.equal(bad.statusCode, 400, 'format=xlsx')
  t.equal(bad.json().code, 'VALIDATION_FAILED')
  const missing = await a.inject({ url: '/v1/works/tiktok?accountId=no-such-account', headers: { accept: 'text/csv' } })
  t.equal(missing.statusCode, 404, 'an unknown account')
  t.match(missing.headers['content-type'], /^application\/problem\+json/)
  t.equal(missing.json().code, 'NOT_FOUND')
})

test('cells: digit ids as spreadsheet text, formula-like text defused, Accept negotiation', async t => {
  t.equal(idCell('7270855478333246754'), '="7270855478333246754"')
  t.equal(idCell('acc-tiktok-1'), 'acc-tiktok-1')
  t.equal(idCell('-dQw4w9WgXcQ'), '\'-dQw4w9WgXcQ', 'a YouTube id may start with -')
  t.equal(textCell('=HYPERLINK("http://evil")'), '\'=HYPERLINK("http://evil")')
  t.equal(textCell('-1 day'), '\'-1 day')
  t.equal(textCell('plain title'), 'plain title')
  const cases: Array<[unknown, string | undefined, boolean]> = [
    ['csv', undefined, true],
    ['json', 'text/csv', false],
    [undefined, undefined, false],
    [undefined, '*/*', false],
    [undefined, 'text/csv', true],
    [undefined, 'application/json, text/csv', false],
    [undefined, 'text/csv, application/json', true],
    [undefined, 'application/json;q=0.4, text/csv;q=0.8', true],
    [undefined, 'text/csv;q=0', false],
    [undefined, 'Text/CSV', true],
    [undefined, 'text/csv;q=0.5, */*', false],
    [undefined, 'text/csv, */*;q=0.1', true],
    [undefined, 'application/*, text/csv', false]
  ]
  for (const [format, accept, csv] of cases) t.equal(wantsCsv(format, accept), csv, `format=${String(format)} accept=${accept ?? '-'}`)

  // What a platform may send, through our CSV into a spreadsheet: text stays text, no formula runs.
  const hostile = ['=HYPERLINK("http://evil","x")', '=1+1', '@SUM(1)', '+1', '-1']
  const csv = WORKS_CSV.render({
    items: hostile.map((title, i) => ({ source: 'aitoearn', platform: 'youtube', workId: i === 0 ? '=cmd|x' : `-id${i}`, title, metrics: {}, extra: {} }))
  })
  const sheet = XLSX.read(Buffer.from(csv), { type: 'buffer' }).Sheets.Sheet1!
  const cells = Object.entries(sheet).filter(([ref]) => !ref.startsWith('!'))
  t.equal(cells.filter(([, c]) => (c as { f?: string }).f !== undefined).length, 0, 'no cell is a formula')
  const rows = XLSX.utils.sheet_to_json<Record<string, unknown>>(sheet)
  t.same(rows.map(r => r.title), hostile.map(h => `'${h}`), 'each title shown as the text it was, marked')
  t.same(rows.map(r => r.workId), ['\'=cmd|x', '\'-id1', '\'-id2', '\'-id3', '\'-id4'], 'ids too')
})
