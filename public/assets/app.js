// The dashboard: platforms and an account's works, one work's merged daily view as a chart, and
// the Douyin taskbox table of a billing date. Every string from the API goes in as text, never HTML.
/* global Node */
import { ApiError, callerKey, downloadCsv, forgetCallerKey, get, sandboxSeen, setCallerKey } from './api.js'
import { renderChart } from './chart.js'
import { ENGAGEMENT, METRIC_LABELS, MONEY, beijingDay, count, day, instant, metric, money, timeZone } from './format.js'

const $ = id => document.getElementById(id)

/** Seeded accounts of the built-in sandbox, offered only when the service says it runs on it. */
const SANDBOX_ACCOUNTS = {
  tiktok: 'acc-tiktok-1',
  KWAI: 'acc-kwai-1',
  youtube: 'acc-youtube-1',
  facebook: 'acc-facebook-1',
  instagram: 'acc-instagram-1',
  twitter: 'acc-twitter-1',
  pinterest: 'acc-pinterest-1',
  bilibili: 'acc-bilibili-1',
  wxGzh: 'acc-wxgzh-1',
  douyin: 'acc-douyin-1'
}
const SOURCE_NAMES = { aitoearn: 'AiToEarn', douyin_taskbox: 'Douyin taskbox' }

const state = {
  platforms: [],
  works: null, // { platform, accountId, cursors: [undefined, c2, ...] }
  work: null, // the work open in the detail panel
  douyinAccount: undefined
}
const inflight = {}

/**
 * "Download CSV" of a panel: the request its table was loaded with, asked again as CSV. Hidden
 * until that panel shows data; a failure is shown in the panel's status line.
 */
const csvOf = {}
function offerCsv (panel, path, params) {
  csvOf[panel] = { path, params }
  $(`${panel}-csv`).hidden = false
}
for (const panel of ['works', 'work', 'douyin']) {
  $(`${panel}-csv`).addEventListener('click', async () => {
    const request = csvOf[panel]
    if (request === undefined) return
    const status = $(`${panel}-status`)
    try {
      const name = await downloadCsv(request.path, request.params)
      setStatus(status, '', `Saved ${name}.`)
    } catch (err) {
      setStatus(status, 'error', errorBox(err, 'Could not download the CSV file.'))
    }
  })
}

/** One request per panel at a time: a newer one aborts the older. */
function panelSignal (panel) {
  inflight[panel]?.abort()
  inflight[panel] = new AbortController()
  return inflight[panel].signal
}

/** h('td', { className: 'num' }, 'text', node): elements with text children only. */
function h (tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'dataset') Object.assign(el.dataset, v)
    else if (k in el) el[k] = v
    else el.setAttribute(k, v)
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c))
  return el
}

function safeLink (url, text) {
  try {
    const u = new URL(url)
    if (u.protocol === 'https:' || u.protocol === 'http:') return h('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer' }, text)
  } catch {}
  return null
}

function setStatus (el, kind, ...content) {
  el.replaceChildren(...content)
  el.className = `status ${kind ?? ''}`.trim()
  el.toggleAttribute('aria-busy', kind === 'loading')
}

/** A failure, as a person reads it: the message, then the code and request id for support. */
function errorBox (err, context) {
  if (!(err instanceof ApiError)) return h('div', { className: 'error-box' }, h('strong', {}, context), ' ', String(err?.message ?? err))
  const p = err.problem
  const box = h('div', { className: 'error-box', dataset: { status: String(err.status), code: p?.code ?? '' } },
    h('strong', {}, context), ' ', err.message)
  const facts = []
  if (p?.code) facts.push(h('code', {}, p.code))
  if (err.status) facts.push(`HTTP ${err.status}`)
  if (p?.upstream?.name) facts.push(`upstream ${p.upstream.name}${p.upstream.code !== undefined ? ` (${p.upstream.code})` : ''}`)
  if (p?.requestId) facts.push(`request id ${p.requestId}`)
  if (p?.errors?.length) facts.push(p.errors.map(e => `${e.field}: ${e.message}`).join('; '))
  if (facts.length) box.append(h('div', { className: 'facts' }, ...facts.flatMap((f, i) => (i ? [' · ', f] : [f]))))
  return box
}

const loading = text => [h('span', { className: 'spinner', 'aria-hidden': 'true' }), ` ${text}`]

// ---------------------------------------------------------------------------------------------
// Caller key

function showKeyState () {
  const key = callerKey()
  $('key-state').textContent = key ? `key in use (…${key.slice(-4)})` : 'no key'
  $('caller-key').value = ''
  $('caller-key').placeholder = key ? '•••••••• (set)' : 'not set'
}

$('key-form').addEventListener('submit', e => {
  e.preventDefault()
  setCallerKey($('caller-key').value.trim(), $('key-remember').checked)
  showKeyState()
  reloadAll()
})
$('key-forget').addEventListener('click', () => {
  forgetCallerKey()
  showKeyState()
  reloadAll()
})

function reloadAll () {
  loadPlatforms()
  if (state.works) loadWorks()
  if (state.work) loadWork()
  loadDouyin()
}

function markSandbox () {
  $('sandbox-badge').hidden = !sandboxSeen
  if (!sandboxSeen || $('account-examples').children.length) return
  $('account-examples').append(...Object.values(SANDBOX_ACCOUNTS).map(a => h('option', { value: a })))
}

// ---------------------------------------------------------------------------------------------
// Platforms and works

async function loadPlatforms () {
  const select = $('platform')
  try {
    const { body } = await get('/v1/platforms', {}, { signal: panelSignal('platforms') })
    state.platforms = body.platforms
    const previous = select.value
    select.replaceChildren(...body.platforms.map(p => h('option', { value: p.platform }, `${p.name ?? p.platform}${p.capabilities.listWorks === false ? ' (no work listing)' : ''}`)))
    markSandbox()
    if (previous && body.platforms.some(p => p.platform === previous)) select.value = previous
    else if (sandboxSeen && body.platforms.some(p => p.platform === 'tiktok')) select.value = 'tiktok'
    platformChanged()
    if (sandboxSeen && !state.works && $('account').value) startWorks()
  } catch (err) {
    if (err.name === 'AbortError') return
    select.replaceChildren(h('option', { value: '' }, '—'))
    setStatus($('works-status'), 'error', errorBox(err, 'Could not load the platforms.'))
  }
}

function platformChanged () {
  const platform = $('platform').value
  const info = state.platforms.find(p => p.platform === platform)
  const account = $('account')
  if (sandboxSeen && (!account.value || Object.values(SANDBOX_ACCOUNTS).includes(account.value))) account.value = SANDBOX_ACCOUNTS[platform] ?? ''
  const note = []
  if (info) {
    const c = info.capabilities
    note.push(c.listWorks === false ? 'AiToEarn cannot list this platform\'s works.' : c.listWorks ? 'Works are listed by AiToEarn.' : '')
    if (c.pagination?.maxLimit) note.push(`Up to ${c.pagination.maxLimit} per page.`)
    note.push(`Sources: ${info.sources.map(s => SOURCE_NAMES[s] ?? s).join(', ')}.`)
    if (info.sources.includes('douyin_taskbox')) note.push('Open Douyin videos from the taskbox table below.')
  }
  $('platform-note').textContent = note.filter(Boolean).join(' ')
}

$('platform').addEventListener('change', platformChanged)
$('works-form').addEventListener('submit', e => {
  e.preventDefault()
  startWorks()
})

function startWorks () {
  const platform = $('platform').value
  const accountId = $('account').value.trim()
  if (!platform || !accountId) return
  if (platform === 'douyin') state.douyinAccount = accountId
  state.works = { platform, accountId, cursors: [undefined] }
  loadWorks()
}

async function loadWorks () {
  const w = state.works
  const cursor = w.cursors[w.cursors.length - 1]
  const status = $('works-status')
  setStatus(status, 'loading', ...loading('Loading works…'))
  try {
    const path = `/v1/works/${encodeURIComponent(w.platform)}`
    const params = { accountId: w.accountId, cursor }
    $('works-csv').hidden = true
    const { body, headers } = await get(path, params, { signal: panelSignal('works') })
    markSandbox()
    offerCsv('works', path, params)
    renderWorks(body, headers)
    setStatus(status, '', `${count(body.items.length)} works on this page${headers.get('cache-status')?.includes('hit') ? ' (from cache)' : ''}.`)
  } catch (err) {
    if (err.name === 'AbortError') return
    $('works-table').hidden = true
    $('works-pager').hidden = true
    const box = errorBox(err, 'Could not list the works.')
    if (err.problem?.code === 'OPERATION_NOT_SUPPORTED' && w.platform === 'douyin') {
      box.append(h('div', { className: 'hint' }, 'Douyin videos come from the Douyin taskbox instead: pick a billing date below and open a video from there (with this account id).'))
    }
    setStatus(status, 'error', box)
  }
}

function renderWorks (body) {
  const w = state.works
  const items = body.items
  const columns = ENGAGEMENT.filter(m => items.some(i => i.metrics?.[m] !== null && i.metrics?.[m] !== undefined))
  const table = $('works-table')
  table.tHead.replaceChildren(h('tr', {},
    h('th', { scope: 'col' }, 'Work'),
    h('th', { scope: 'col' }, 'Published'),
    ...columns.map(m => h('th', { scope: 'col', className: 'num' }, METRIC_LABELS[m])),
    h('th', { scope: 'col' }, h('span', { className: 'sr-only' }, 'Open'))))
  table.tBodies[0].replaceChildren(...items.map(item => h('tr', { dataset: { workId: item.workId } },
    h('td', { className: 'title' }, h('div', {}, item.title || item.workId), h('div', { className: 'muted small mono' }, item.workId, item.contentType ? ` · ${item.contentType}` : '')),
    h('td', { className: 'nowrap' }, instant(item.publishedAt)),
    ...columns.map(m => h('td', { className: 'num' }, count(item.metrics[m]))),
    h('td', {}, h('button', {
      type: 'button',
      className: 'small-btn',
      onclick: () => openWork({ platform: item.platform, workId: item.workId, accountId: w.accountId, title: item.title, publishedAt: item.publishedAt, url: item.url })
    }, 'Open')))))
  if (items.length === 0) table.tBodies[0].append(h('tr', {}, h('td', { colSpan: columns.length + 3, className: 'empty' }, 'No works on this page.')))
  table.hidden = false
  const page = body.page
  $('works-pager').hidden = !(page.hasNext || w.cursors.length > 1)
  $('works-page').textContent = `Page ${w.cursors.length}`
  $('works-prev').disabled = w.cursors.length <= 1
  $('works-first').disabled = w.cursors.length <= 1
  $('works-next').disabled = !page.hasNext || !page.nextCursor
  $('works-next').onclick = () => {
    w.cursors.push(page.nextCursor)
    loadWorks()
  }
}

$('works-prev').addEventListener('click', () => {
  if (state.works?.cursors.length > 1) {
    state.works.cursors.pop()
    loadWorks()
  }
})
$('works-first').addEventListener('click', () => {
  if (state.works) {
    state.works.cursors = [undefined]
    loadWorks()
  }
})

// ---------------------------------------------------------------------------------------------
// One work: the merged daily view

function openWork (work) {
  state.work = work
  // The 7 days up to today (Beijing): engagement is a snapshot read today, money is per past day.
  $('since').value = beijingDay(-6)
  $('until').value = beijingDay(0)
  $('work-panel').hidden = false
  $('work-title').textContent = work.title || work.workId
  loadWork()
  $('work-panel').scrollIntoView({ behavior: 'smooth', block: 'start' })
}

$('work-close').addEventListener('click', () => {
  inflight.work?.abort()
  state.work = null
  $('work-panel').hidden = true
})
$('range-form').addEventListener('submit', e => {
  e.preventDefault()
  if (state.work) loadWork()
})

async function loadWork () {
  const work = state.work
  const status = $('work-status')
  if (!work.accountId) {
    setStatus(status, 'error', h('div', { className: 'error-box' }, h('strong', {}, 'Which account?'),
      ' The merged view needs the AiToEarn account id of this video: choose platform douyin above, enter the account id, then open the video again.'))
    return
  }
  setStatus(status, 'loading', ...loading('Loading the merged view…'))
  $('partial-notice').hidden = true
  try {
    const path = `/v1/works/${encodeURIComponent(work.platform)}/${encodeURIComponent(work.workId)}/metrics`
    const params = {
      accountId: work.accountId,
      since: $('since').value,
      until: $('until').value,
      douyinId: work.douyinId,
      publishedAt: work.publishedAt
    }
    $('work-csv').hidden = true
    const { body, headers } = await get(path, params, { signal: panelSignal('work') })
    markSandbox()
    offerCsv('work', path, params)
    renderWork(body, headers)
    setStatus(status, '', '')
  } catch (err) {
    if (err.name === 'AbortError') return
    renderChart($('chart'), [])
    $('totals').replaceChildren()
    $('sources').replaceChildren()
    $('daily-table').tHead.replaceChildren()
    $('daily-table').tBodies[0].replaceChildren()
    setStatus(status, 'error', errorBox(err, 'Could not load this work.'))
  }
}

function renderWork (body, headers) {
  const work = body.work ?? {}
  const w = state.work
  $('work-title').textContent = work.title || w.title || w.workId
  const link = safeLink(work.url ?? w.url, 'open on the platform ↗')
  $('work-meta').replaceChildren(
    h('span', { className: 'badge' }, work.platform ?? w.platform), ' ',
    h('span', { className: 'mono' }, w.workId),
    (work.publishedAt ?? w.publishedAt) ? ` · published ${instant(work.publishedAt ?? w.publishedAt)}` : '',
    work.author?.name ? ` · by ${work.author.name}` : '',
    link ? ' · ' : '', link ?? '')

  const series = body.series ?? []

  // Partial result: some source failed, the others' data is shown.
  const failed = (body.sources ?? []).filter(s => s.status === 'error')
  const notice = $('partial-notice')
  if (headers.get('x-sources-complete') === 'false' || failed.length) {
    notice.replaceChildren(
      h('strong', {}, 'Partial result. '),
      failed.length
        ? `${failed.map(s => SOURCE_NAMES[s.name] ?? s.name).join(' and ')} failed; the numbers below come from the other source only.`
        : 'Not every source answered; the numbers below may be incomplete.',
      ...failed.map(s => h('div', { className: 'facts' }, `${SOURCE_NAMES[s.name] ?? s.name}: `, s.error?.detail ?? s.error?.title ?? 'failed', s.error?.code ? h('code', {}, ` ${s.error.code}`) : '')))
    notice.hidden = false
  } else {
    notice.hidden = true
  }

  const drawn = renderChart($('chart'), series)
  $('chart').dataset.series = drawn.map(s => s.metric).join(' ')

  const totals = body.totals ?? {}
  const names = Object.keys(METRIC_LABELS).filter(m => totals[m] !== null && totals[m] !== undefined)
  $('totals').replaceChildren(...(names.length
    ? names.map(m => h('div', { className: `tile${MONEY.has(m) ? ' money' : ''}`, dataset: { metric: m } },
      h('div', { className: 'tile-label' }, METRIC_LABELS[m]),
      h('div', { className: 'tile-value' }, metric(m, totals[m]))))
    : [h('p', { className: 'muted' }, 'No totals: no source reported a number.')]))

  $('sources').replaceChildren(...(body.sources ?? []).map(s => h('li', { className: `source ${s.status}`, dataset: { source: s.name, status: s.status } },
    h('span', { className: `pill ${s.status}` }, s.status),
    h('strong', {}, SOURCE_NAMES[s.name] ?? s.name),
    s.cacheStatus ? h('span', { className: 'muted small', title: 'Cache-Status of this source' }, ` cache: ${s.cacheStatus}`) : '',
    s.fetchedAt ? h('span', { className: 'muted small' }, ` · fetched ${instant(s.fetchedAt)}`) : '',
    s.reason ? h('span', { className: 'muted small source-reason' }, ` · ${s.reason}`) : '',
    s.error ? sourceError(s.error) : '')))

  const columns = Object.keys(METRIC_LABELS).filter(m => series.some(p => p.metrics?.[m] !== null && p.metrics?.[m] !== undefined))
  const table = $('daily-table')
  table.tHead.replaceChildren(h('tr', {}, h('th', { scope: 'col' }, 'Day'), ...columns.map(m => h('th', { scope: 'col', className: 'num' }, METRIC_LABELS[m]))))
  table.tBodies[0].replaceChildren(...series.map(p => h('tr', { dataset: { date: p.date ?? '' } },
    h('th', { scope: 'row', className: 'nowrap' }, p.date ? day(p.date) : instant(p.at)),
    ...columns.map(m => h('td', { className: 'num' }, metric(m, p.metrics?.[m]))))))
}

/** A failed source's problem, in plain words, then its code and ids for support. */
function sourceError (problem) {
  const facts = [
    problem.code,
    problem.upstream?.code !== undefined ? `upstream ${problem.upstream.name ?? ''} ${problem.upstream.code}`.replace('  ', ' ') : '',
    problem.requestId ? `request id ${problem.requestId}` : ''
  ].filter(Boolean).join(' · ')
  return h('div', { className: 'source-error' }, problem.detail ?? problem.title ?? 'failed', ' ', h('span', { className: 'muted small' }, facts))
}

// ---------------------------------------------------------------------------------------------
// Douyin taskbox daily table

$('douyin-form').addEventListener('submit', e => {
  e.preventDefault()
  loadDouyin()
})

async function loadDouyin () {
  const billingDate = $('billing-date').value
  if (!billingDate) return
  const status = $('douyin-status')
  setStatus(status, 'loading', ...loading('Loading the Douyin day…'))
  try {
    const params = { billingDate, all: true, pageSize: 1000 }
    $('douyin-csv').hidden = true
    const { body } = await get('/v1/douyin/task-videos/daily', params, { signal: panelSignal('douyin') })
    markSandbox()
    offerCsv('douyin', '/v1/douyin/task-videos/daily', params)
    renderDouyin(body)
    setStatus(status, '', `${count(body.items.length)} videos on ${day(billingDate)} (Beijing billing day).`)
  } catch (err) {
    if (err.name === 'AbortError') return
    $('douyin-table').hidden = true
    setStatus(status, 'error', errorBox(err, 'Could not load the Douyin day.'))
  }
}

/** The AiToEarn account of Douyin videos: the one entered with platform douyin, else the sandbox's. */
function douyinAccount () {
  if ($('platform').value === 'douyin' && $('account').value.trim()) return $('account').value.trim()
  return state.douyinAccount ?? (sandboxSeen ? SANDBOX_ACCOUNTS.douyin : undefined)
}

function renderDouyin (body) {
  const table = $('douyin-table')
  // The bill has no expected profit but the creator's commission: the last column shows what the answer has.
  const last = body.items.some(i => i.metrics.expectedProfit !== null) || !body.items.some(i => i.metrics.talentProfit !== null) ? 'expectedProfit' : 'talentProfit'
  $('douyin-last-money').textContent = METRIC_LABELS[last]
  const money4 = ['gmv', 'refundGmv', 'adShareCost', last]
  table.tBodies[0].replaceChildren(...body.items.map(item => h('tr', { dataset: { workId: item.workId } },
    h('td', { className: 'title' }, h('div', {}, item.title || 'Untitled video'), h('div', { className: 'muted small mono' }, item.workId)),
    h('td', {}, item.author?.name ?? '—', item.author?.platformUid ? h('div', { className: 'muted small mono' }, item.author.platformUid) : ''),
    h('td', {}, item.task?.name ?? '—', item.task?.appTitle ? h('div', { className: 'muted small' }, item.task.appTitle) : ''),
    h('td', { className: 'num' }, count(item.metrics.activeCount)),
    ...money4.map(m => h('td', { className: 'num' }, money(item.metrics[m]))),
    h('td', {}, h('button', {
      type: 'button',
      className: 'small-btn',
      onclick: () => openWork({
        platform: 'douyin',
        workId: item.workId,
        accountId: douyinAccount(),
        douyinId: item.author?.platformUid,
        publishedAt: item.publishedAt,
        title: item.title,
        url: item.url
      })
    }, 'Chart')))))
  if (body.items.length === 0) table.tBodies[0].append(h('tr', {}, h('td', { colSpan: 9, className: 'empty' }, 'No videos for this billing day.')))
  const t = body.totals ?? {}
  table.tFoot.replaceChildren(h('tr', {},
    h('th', { scope: 'row', colSpan: 3 }, `Total · ${count(body.items.length)} videos`),
    h('td', { className: 'num' }, count(t.activeCount)),
    ...money4.map(m => h('td', { className: 'num', dataset: { metric: m } }, money(t[m]))),
    h('td', {})))
  table.hidden = false
}

// ---------------------------------------------------------------------------------------------

$('tz').textContent = timeZone
$('billing-date').value = beijingDay(-1)
$('billing-date').max = beijingDay(0)
$('until').max = beijingDay(0)
showKeyState()
loadPlatforms()
loadDouyin()
