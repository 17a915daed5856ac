// Numbers, money and dates for people, in the viewer's locale and time zone.
// null means "the source does not report it": shown as a dash, never as 0.

const NONE = '—'
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
const compactNumber = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 })
const yuanFormat = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'CNY' })
const compactYuan = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'CNY', notation: 'compact', maximumFractionDigits: 1 })
const dayFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
const instantFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
})

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone

/** A count with thousands separators. */
export const count = v => (v === null || v === undefined ? NONE : integer.format(v))
export const countCompact = v => (v === null || v === undefined ? NONE : compactNumber.format(v))

/** Integer fen -> yuan, e.g. 123456 -> "CN¥1,234.56" (en) or "¥1,234.56" (zh). */
export const fenToYuan = fen => (fen === null || fen === undefined ? null : fen / 100)
export const money = fen => (fen === null || fen === undefined ? NONE : yuanFormat.format(fen / 100))
export const yuan = v => (v === null || v === undefined ? NONE : yuanFormat.format(v))
export const yuanCompact = v => (v === null || v === undefined ? NONE : compactYuan.format(v))

/** A calendar day (YYYY-MM-DD, e.g. a Beijing billing day) as that same day, never shifted by zone. */
export function day (ymd) {
  const d = dayDate(ymd)
  return d ? dayFormat.format(d) : NONE
}

/** Local midnight of a calendar day. */
export function dayDate (ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd ?? '')
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null
}

/** An instant (ISO 8601 with zone) in the viewer's time zone. */
export function instant (iso) {
  if (!iso) return NONE
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? NONE : instantFormat.format(d)
}

/** Today in Beijing (the Douyin billing calendar) plus `days`, as YYYY-MM-DD. */
export function beijingDay (days = 0) {
  return new Date(Date.now() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10)
}

/** People's names of the metrics (the API's titles). */
export const METRIC_LABELS = {
  viewCount: 'Views',
  playCount: 'Plays',
  impressionCount: 'Impressions',
  reachCount: 'Reach',
  likeCount: 'Likes',
  collectCount: 'Collects',
  commentCount: 'Comments',
  shareCount: 'Shares',
  saveCount: 'Saves',
  clickCount: 'Clicks',
  engagementCount: 'Engagements',
  watchTimeSeconds: 'Watch time (s)',
  activeCount: 'Active users',
  gmv: 'GMV',
  refundGmv: 'Refunded GMV',
  billingGmv: 'Billed GMV',
  billingRefundGmv: 'Billed refunds',
  adShareCost: 'Ad share',
  feedAdShareCost: 'Feed ad share',
  expectedProfit: 'Expected profit',
  talentProfit: 'Creator commission'
}

export const MONEY = new Set(['gmv', 'refundGmv', 'billingGmv', 'billingRefundGmv', 'adShareCost', 'feedAdShareCost', 'expectedProfit', 'talentProfit'])
export const ENGAGEMENT = ['viewCount', 'playCount', 'impressionCount', 'reachCount', 'likeCount', 'commentCount', 'shareCount', 'collectCount', 'saveCount', 'clickCount', 'engagementCount', 'watchTimeSeconds']

/** A metric's value as text: money in yuan, counts with separators. */
export const metric = (name, v) => (MONEY.has(name) ? money(v) : count(v))
