import { test } from 'tap'
import fc from 'fast-check'
import { emptyMetrics, type Work } from '../src/schemas/metrics.js'
import type { WorkAnalyticsBody } from '../src/schemas/aitoearn.js'
import { MONEY, mergeView, snapshotDate } from '../src/merge/series.js'
import { worst } from '../src/merge/view.js'
import { matchesEtag as matchesWeak } from '../src/cache/http.js'
import { viewDates } from '../src/routes/merged.js'
import { HttpProblem } from '../src/errors.js'

const DATES = ['2026-03-01', '2026-03-02', '2026-03-03']

function analytics (series: Array<{ at?: string, periodStart?: string, likes: number | null }>, latest: number | null): WorkAnalyticsBody {
  const m = (likes: number | null) => ({ ...emptyMetrics(), likeCount: likes })
  return {
    work: { source: 'aitoearn', platform: 'douyin', workId: '1', accountId: 'acc', publishedAt: '2026-02-28T00:00:00.000Z', metrics: m(latest), extra: { uniqueId: 'u' } },
    series: series.map(s => ({ ...(s.at ? { at: s.at } : {}), ...(s.periodStart ? { periodStart: s.periodStart } : {}), metrics: m(s.likes) })),
    fetchedAt: '2026-03-03T00:00:00.000Z'
  }
}

function row (date: string, gmv: number | null): Work {
  return { source: 'douyin_taskbox', platform: 'douyin', workId: '1', date, title: 'From Douyin', task: { id: '7' }, metrics: { ...emptyMetrics(), gmv, activeCount: 2 }, currency: 'CNY', extra: {} }
}

test('merge by date: latest snapshot of a day for engagement, that day\'s row for money', async t => {
  const a = analytics([
    { at: '2026-03-01T01:00:00.000Z', likes: 10 },
    { at: '2026-03-01T05:00:00.000Z', likes: 12 },
    { at: '2026-03-02T17:00:00.000Z', likes: 20 } // 01:00 on 03-03 in Beijing
  ], 20)
  const d = new Map([['2026-03-01', row('2026-03-01', 100)], ['2026-03-03', row('2026-03-03', 50)]])
  const view = mergeView({ platform: 'douyin', workId: '1', accountId: 'acc', dates: DATES, analytics: a, douyin: d })
  t.same(view.series.map(p => [p.date, p.metrics.likeCount, p.metrics.gmv]), [
    ['2026-03-01', 12, 100],
    ['2026-03-02', null, null],
    ['2026-03-03', 20, 50]
  ], 'snapshots on their Beijing day, the later one of a day winning; null where nothing reports')
  t.equal(view.totals.likeCount, 20, 'engagement: the latest value, not a sum')
  t.equal(view.totals.gmv, 150, 'money: the sum over the days')
  t.equal(view.totals.activeCount, 4)
  t.equal(view.totals.viewCount, null)
  t.equal(view.totals.refundGmv, null, 'a money field no row reports stays null')
  t.same(view.work.metrics, view.totals)
  t.match(view.work, { source: 'merged', title: 'From Douyin', publishedAt: '2026-02-28T00:00:00.000Z', task: { id: '7' }, currency: 'CNY', extra: { uniqueId: 'u' } })
})

test('a daily report (Pinterest) stands for the day of its period', async t => {
  t.equal(snapshotDate({ at: '2026-03-02T00:00:00.000Z', periodStart: '2026-03-02T00:00:00.000Z', metrics: emptyMetrics() }), '2026-03-02')
  t.equal(snapshotDate({ at: '2026-03-02T16:30:00.000Z', metrics: emptyMetrics() }), '2026-03-03', 'a snapshot: its Beijing day')
  t.equal(snapshotDate({ metrics: emptyMetrics() }), undefined)
})

test('money totals are the sum of the series; engagement never comes from Douyin', async t => {
  const gmv = fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: null })
  fc.assert(fc.property(fc.tuple(gmv, gmv, gmv), fc.boolean(), (values, withAnalytics) => {
    const d = new Map(DATES.map((date, i) => [date, row(date, values[i]!)]))
    const view = mergeView({ platform: 'douyin', workId: '1', accountId: 'acc', dates: DATES, analytics: withAnalytics ? analytics([], 5) : undefined, douyin: d })
    const reported = view.series.map(p => p.metrics.gmv).filter((v): v is number => v !== null)
    const sum = reported.length === 0 ? null : reported.reduce((x, y) => x + y, 0)
    return view.totals.gmv === sum && view.totals.likeCount === (withAnalytics ? 5 : null) && MONEY.every(n => view.series.every(p => p.metrics[n] === d.get(p.date!)!.metrics[n]))
  }))
  t.pass('property holds')
})

test('view dates: defaults and limits', async t => {
  t.same(viewDates(undefined, undefined, '2026-03-10'), ['2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09'], '7 days up to yesterday')
  t.same(viewDates('2026-03-10', undefined, '2026-03-10'), ['2026-03-10'], 'since today: until today')
  t.equal(viewDates('2026-02-08', '2026-03-10', '2026-03-10').length, 31)
  t.throws(() => viewDates('2026-02-07', '2026-03-10', '2026-03-10'), { code: 'VALIDATION_FAILED' })
  t.throws(() => viewDates(undefined, '2026-03-11', '2026-03-10'), { code: 'VALIDATION_FAILED' })
  t.throws(() => viewDates('2026-03-05', '2026-03-04', '2026-03-10'), { code: 'VALIDATION_FAILED' })
})

test('If-None-Match: weak comparison, lists, *', async t => {
  t.ok(matchesWeak('W/"a"', 'W/"a"'))
  t.ok(matchesWeak('"a"', 'W/"a"'))
  t.ok(matchesWeak('"x", W/"a"', 'W/"a"'))
  t.ok(matchesWeak('*', 'W/"a"'))
  t.notOk(matchesWeak('W/"b"', 'W/"a"'))
  t.notOk(matchesWeak(undefined, 'W/"a"'))
})

test('the worst problem: highest status, the first on a tie', async t => {
  const a = new HttpProblem('UPSTREAM_ERROR', { detail: 'a' })
  const b = new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: 'b' })
  const c = new HttpProblem('UPSTREAM_TIMEOUT', { detail: 'c' })
  t.equal(worst([a, b]), a)
  t.equal(worst([new HttpProblem('VALIDATION_FAILED', { detail: 'v' }), a]), a)
  t.equal(worst([a, c]), c)
})
