// The per-day line chart of a work: plays (or views) and likes on the left axis, GMV and expected
// profit in yuan on the right axis. uPlot, served by the BFF itself (no CDN).
/* global ResizeObserver */
import UPlot from '/vendor/uplot/uPlot.esm.js'
import { count, countCompact, dayDate, fenToYuan, yuan, yuanCompact } from './format.js'

/** The chart's series: which metric, its label, axis and colour. */
export const CHART_SERIES = [
  { metric: 'playCount', label: 'Plays', scale: 'count', stroke: '#2563eb' },
  { metric: 'viewCount', label: 'Views', scale: 'count', stroke: '#2563eb' },
  { metric: 'likeCount', label: 'Likes', scale: 'count', stroke: '#db2777' },
  { metric: 'gmv', label: 'GMV (¥)', scale: 'yuan', stroke: '#059669' },
  { metric: 'expectedProfit', label: 'Expected profit (¥)', scale: 'yuan', stroke: '#d97706', dash: [6, 4] }
]

const DAY = 86_400
const tickDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })
const legendDay = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })

let current = null
let resizer = null

/**
 * Draws the chart into `el` from the merged view's series ([{ date, metrics }]). A metric no day
 * reports is left out (plays win over views when both exist). Returns the series drawn.
 */
export function renderChart (el, points) {
  destroyChart()
  el.replaceChildren()
  const days = points.filter(p => dayDate(p.date))
  const has = m => days.some(p => p.metrics?.[m] !== null && p.metrics?.[m] !== undefined)
  const chosen = CHART_SERIES.filter(s => has(s.metric) && !(s.metric === 'viewCount' && has('playCount')))
  if (days.length === 0 || chosen.length === 0) {
    const p = document.createElement('p')
    p.className = 'empty'
    p.textContent = days.length === 0 ? 'No daily data for this period.' : 'No charted metric (plays, views, likes, GMV, expected profit) is reported for this period.'
    el.append(p)
    return []
  }

  const xs = days.map(p => dayDate(p.date).getTime() / 1000)
  const data = [xs, ...chosen.map(s => days.map(p => {
    const v = p.metrics?.[s.metric] ?? null
    return s.scale === 'yuan' ? fenToYuan(v) : v
  }))]
  const hasMoney = chosen.some(s => s.scale === 'yuan')
  const hasCount = chosen.some(s => s.scale === 'count')

  // Whole days only on the x axis (the points are calendar days, not instants).
  const axes = [{
    stroke: '#475569',
    grid: { stroke: '#e2e8f0' },
    ticks: { stroke: '#cbd5e1' },
    space: 64,
    incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY],
    values: (_u, splits) => splits.map(ts => tickDay.format(new Date(ts * 1000)))
  }]
  if (hasCount) axes.push({ scale: 'count', stroke: '#475569', size: 64, grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, values: (_u, vals) => vals.map(countCompact) })
  if (hasMoney) axes.push({ scale: 'yuan', side: 1, stroke: '#475569', size: 76, grid: { show: !hasCount, stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, values: (_u, vals) => vals.map(yuanCompact) })

  const opts = {
    width: Math.max(320, el.clientWidth),
    height: 320,
    // Different headroom on the two value axes: the highest plays point and the highest GMV point of
    // a day would otherwise sit on the same pixel, one hiding the other (a lone lifetime snapshot is
    // always its axis's highest).
    scales: { x: { time: true, range: (_u, min, max) => [min - DAY / 2, max + DAY / 2] }, count: { range: (_u, min, max) => [0, Math.max(1, max * 1.3)] }, yuan: { range: (_u, min, max) => [Math.min(0, min * 1.1), Math.max(1, max * 1.1)] } },
    axes,
    cursor: { points: { size: 9 } },
    legend: { live: true },
    series: [
      { label: 'Day', value: (_u, ts) => (ts === null ? '—' : legendDay.format(new Date(ts * 1000))) },
      ...chosen.map(s => ({
        label: s.label,
        scale: s.scale,
        stroke: s.stroke,
        width: 2,
        dash: s.dash,
        spanGaps: false,
        points: { show: true, size: 7, stroke: s.stroke, fill: '#ffffff', width: 2 },
        value: (_u, v) => (s.scale === 'yuan' ? yuan(v) : count(v))
      }))
    ]
  }
  current = new UPlot(opts, data, el)
  resizer = new ResizeObserver(() => current?.setSize({ width: Math.max(320, el.clientWidth), height: 320 }))
  resizer.observe(el)
  return chosen
}

export function destroyChart () {
  resizer?.disconnect()
  resizer = null
  current?.destroy()
  current = null
}
