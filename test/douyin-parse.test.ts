import { test } from 'tap'
import { parse as losslessParse, isSafeNumber } from 'lossless-json'
import { parseLossless } from '../src/upstream/douyin/rows.js'
import { planDaily } from '../src/upstream/douyin/params.js'
import { beijingDate, parseInstant } from '../src/schemas/dates.js'
import { rng } from '../src/sandbox/seed.js'

const reference = (text: string) => losslessParse(text, null, (v: string) => isSafeNumber(v) ? Number(v) : v)

test('ids beyond 2^53 stay exact; the rest parses as JSON.parse does', async t => {
  t.same(parseLossless('{"VideoId":7270855478333246754,"TaskId":7270785143852253697,"GMV1d":12345}'),
    { VideoId: '7270855478333246754', TaskId: '7270785143852253697', GMV1d: 12345 })
  t.same(parseLossless('[9007199254740991,9007199254740992,-9007199254740993,0,-1,1.5,2e3,-0.25E-2]'),
    [9007199254740991, '9007199254740992', '-9007199254740993', 0, -1, 1.5, 2000, -0.0025])
  const tricky = '{"a\\"7270855478333246754":"7270855478333246754 \\\\","b\\\\":[7270855478333246754],"c":"\\\\\\"x"}'
  t.same(parseLossless(tricky), JSON.parse(tricky.replace('[7270855478333246754]', '["7270855478333246754"]')), 'digits inside strings untouched, escapes respected')
  t.throws(() => parseLossless('{"a":7270855478333246754'), 'invalid JSON still throws')
  t.throws(() => parseLossless('{"a":"unterminated'))
})

test('same result as lossless-json on generated documents', async t => {
  const r = rng('douyin-parse')
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  const value = (depth: number): string => {
    const kind = Math.floor(r() * (depth > 2 ? 4 : 6))
    switch (kind) {
      case 0: return String(Math.floor(r() * 1e6) - 5e5)
      case 1: return pick(['7270855478333246754', '-7270855478333246754', '9007199254740993', '12345678901234567', '1234567890123456', '0'])
      case 2: return JSON.stringify(pick(['', 'a"b', 'x\\', '7270855478333246754', '\\"9007199254740993\\"', '中文 ✓', '\n\t']))
      case 3: return pick(['true', 'false', 'null', '1.25', '-3e2'])
      case 4: return `[${Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1)).join(',')}]`
      default: return `{${Array.from({ length: Math.floor(r() * 4) }, (_, i) => `${JSON.stringify(`k${i}"\\`)}:${value(depth + 1)}`).join(',')}}`
    }
  }
  for (let i = 0; i < 300; i++) {
    const text = value(0)
    t.same(parseLossless(text), reference(text), text.slice(0, 80))
  }
})

test('Beijing dates: a date-time without zone is Beijing time; bare dates are Beijing days', async t => {
  t.equal(beijingDate(Date.parse('2025-01-01T16:30:00Z')), '2025-01-02', 'after 16:00 UTC it is tomorrow in Beijing')
  t.equal(parseInstant('2025-01-02', false), Date.parse('2025-01-01T16:00:00Z') / 1000)
  t.equal(parseInstant('2025-01-02', true), Date.parse('2025-01-02T15:59:59Z') / 1000)
  t.equal(parseInstant('2025-01-02T08:00', false), Date.parse('2025-01-02T00:00:00Z') / 1000)
  t.equal(parseInstant('2025-01-02T08:00:00Z', false), Date.parse('2025-01-02T08:00:00Z') / 1000)
  t.equal(parseInstant('2025-01-02T08:00:00+0530', false), Date.parse('2025-01-02T02:30:00Z') / 1000)
  t.equal(parseInstant('2025-02-29', false), undefined, 'not a calendar date')
  t.equal(parseInstant('2025-01-02T25:00', false), undefined)
})

test('plans: "today" and the default window follow Beijing, whatever the clock zone', async t => {
  // 2025-03-10 17:00 UTC is already 2025-03-11 in Beijing: yesterday is 2025-03-10.
  const now = Date.parse('2025-03-10T17:00:00Z')
  const plan = planDaily({}, now)
  t.equal(plan.queries.length, 1)
  const q = plan.queries[0]!
  t.equal(q.billing_date, '2025-03-10')
  t.equal(q.video_publish_end_time, Date.parse('2025-03-10T15:59:59Z') / 1000, 'end of the billing date in Beijing')
  t.equal(q.video_publish_end_time - q.video_publish_start_time, 30 * 86400 - 1)
  t.throws(() => planDaily({ billingDate: '2025-03-12' }, now), { code: 'VALIDATION_FAILED' }, 'after today in Beijing')
  t.equal(planDaily({ billingDate: '2025-03-11' }, now).queries[0]!.billing_date, '2025-03-11', 'today in Beijing is allowed')
  // An old billing date: the default window is clamped to the 90-day limit, never refused for it.
  const old = planDaily({ billingDate: '2025-01-10' }, now).queries[0]!
  t.ok(old.video_publish_start_time >= now / 1000 - 90 * 86400, 'start clamped to 90 days')
  t.throws(() => planDaily({ billingDate: '2024-11-01' }, now), { code: 'VALIDATION_FAILED' }, 'nothing in the last 90 days can have data for it')
  t.equal(planDaily({ billingDateFrom: '2025-02-01', billingDateTo: '2025-03-03' }, now).queries.length, 31, '31 days: one query each')
})

test('fen written with a decimal point is refused, not read as fen: "12.00" may be yuan', async t => {
  const { integerValue } = await import('../src/upstream/douyin/values.js')
  const said: string[] = []
  t.equal(integerValue('12.00', 'gmv', (_f, _v, reason) => said.push(reason)), null)
  t.match(said, [/decimal point/])
  t.equal(integerValue('1200', 'gmv', () => t.fail('no warning')), 1200)
})

test('a bill with two rows for one video: the first is used, and the answer says so', async t => {
  const { parseBill, BillDay, BILL_COLUMNS } = await import('../src/upstream/douyin/bill-csv.js')
  const { Readable } = await import('node:stream')
  const header = BILL_COLUMNS.map(c => c.header)
  const row = (gmv: string) => header.map(h => (h === '视频ID' ? '7270855478333246754' : h === '视频发布时间' ? '2026-11-01 10:00:00' : h.includes('交易订单支付金额') ? gmv : '')).join(',')
  const csv = [header.join(','), row('100'), row('900')].join('\n')
  const day = new BillDay((await parseBill(Readable.from([Buffer.from(csv)]), '2026-11-30')).body)
  t.equal(day.find('7270855478333246754')?.metrics.gmv, 100, 'the first row')
  t.match(day.warnings, [{ workId: '7270855478333246754', reason: /second row/ }])
})
