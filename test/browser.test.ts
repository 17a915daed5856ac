/**
 * The dashboard page in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * against the whole app listening on 127.0.0.1 with both sandbox upstreams. Skipped (with the
 * reason) only when /usr/bin/chromium is missing; CI installs it.
 */
import { test } from 'tap'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Page, Response } from 'playwright-core'
import { launchChromium, noChromium } from './helpers/chromium.js'
import { buildApp } from './helpers/app.js'
import type { Tap } from './helpers/redis.js'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { startDouyinSandbox, type DouyinSandbox } from '../src/sandbox/douyin/server.js'
import { DOUYIN_VIDEOS } from '../src/sandbox/seed.js'
import { sandboxEnv } from './helpers/stack.js'

/** The page's document, inside page.evaluate/waitForFunction callbacks (they run in the browser). */
declare const document: { querySelector: (s: string) => any, querySelectorAll: (s: string) => ArrayLike<any> }

const ARTIFACTS = join(import.meta.dirname, 'artifacts')
/** The viewer: a locale and a zone that is neither UTC nor Beijing, so shifted dates would show. */
const LOCALE = 'en-US'
const ZONE = 'Asia/Kolkata'
const CALLER_KEY = 'dashboard-test-key-0123456789'
/** Stroke colours of the chart's series (public/assets/chart.js). */
const COLOURS = { plays: [0x25, 0x63, 0xeb], gmv: [0x05, 0x96, 0x69] } as const

const skip = noChromium('browser test')

interface Stack { url: string, dy: DouyinSandbox }

/** Both sandboxes and the app on them (sandbox mode: the page offers the seeded accounts), listening. */
async function stack (t: Tap, env: Record<string, string> = {}): Promise<Stack> {
  const [ai, dy] = await Promise.all([startAitoearnSandbox(), startDouyinSandbox()])
  t.teardown(() => Promise.all([ai.close(), dy.close()]))
  const app = await buildApp(t, {
    SANDBOX: 'true',
    ...sandboxEnv({ ai, dy }),
    ...env
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, dy }
}

/**
 * A new tab on the page; collects the page's errors and console errors (CSP violations included).
 * `awaiting`: responses the page asks for as it loads, listened for before it is opened (the page
 * may have them before `goto` returns).
 */
async function open (t: Tap, base: string, awaiting: Array<(r: Response) => boolean> = []): Promise<{ page: Page, errors: string[], responses: Array<Promise<Response>> }> {
  const page = await (await launchChromium({ locale: LOCALE, timezoneId: ZONE })).newPage()
  page.setDefaultTimeout(10_000)
  t.teardown(() => page.close())
  const errors: string[] = []
  page.on('pageerror', e => errors.push(`pageerror: ${e.message}`))
  page.on('console', m => {
    // A failing API call is logged by the browser itself ("Failed to load resource"): expected in the error tests.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`)
  })
  const responses = awaiting.map(match => page.waitForResponse(match))
  await page.goto(`${base}/`)
  return { page, errors, responses }
}

const text = (page: Page, selector: string) => page.locator(selector).first().innerText()
const yuan = (fen: number) => new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'CNY' }).format(fen / 100)
const int = (n: number) => new Intl.NumberFormat(LOCALE).format(n)

/** How many canvas pixels are (nearly) this colour. */
function pixels (page: Page, rgb: readonly number[]): Promise<number> {
  return page.evaluate(([r, g, b]) => {
    const canvas = document.querySelector('#chart canvas')
    const data: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let n = 0
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i]! - r!) < 12 && Math.abs(data[i + 1]! - g!) < 12 && Math.abs(data[i + 2]! - b!) < 12 && data[i + 3]! > 200) n++
    }
    return n
  }, rgb)
}

function screenshotPath (name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}

/** A sandbox video published 10 days ago: money on every day of a 7-day view. */
const VIDEO = DOUYIN_VIDEOS.find(v => v.publishedDaysAgo === 10)!

/** Each listed source as `name:status`. */
async function sourceStates (page: Page): Promise<string[]> {
  return await page.locator('#sources li').evaluateAll(els => els.map(e => {
    const { source, status } = (e as unknown as { dataset: Record<string, string> }).dataset
    return `${source}:${status}`
  }))
}

test('the works list renders, with people\'s numbers and dates, and pages with the cursor', { skip }, async t => {
  const { url } = await stack(t)
  const { page, errors, responses: [first] } = await open(t, url, [r => r.url().includes('/v1/works/tiktok?')])
  await page.locator('#sandbox-badge').waitFor()
  const api = await (await first!).json()
  await page.locator('#works-table tbody tr').nth(19).waitFor()
  t.equal(await page.locator('#platform').inputValue(), 'tiktok', 'sandbox: a listing platform is preselected')
  t.equal(await page.locator('#account').inputValue(), 'acc-tiktok-1', 'and its seeded account')
  t.equal(await page.locator('#works-table tbody tr').count(), api.items.length)

  const row = page.locator('#works-table tbody tr').first()
  const w = api.items[0]
  t.match(await row.innerText(), w.title)
  const headers = await page.locator('#works-table thead th').allInnerTexts()
  t.same(headers.slice(2, 6).map(h => h.toLowerCase()), ['views', 'likes', 'comments', 'shares'], 'the columns tiktok reports, no empty ones')
  const cells = await row.locator('td').allInnerTexts()
  t.equal(cells[2], int(w.metrics.viewCount), 'views with thousands separators')
  t.match(cells[2], /^\d{1,3}(,\d{3})+$/)
  const published = new Intl.DateTimeFormat(LOCALE, {
    timeZone: ZONE, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
  }).format(new Date(w.publishedAt))
  t.equal(cells[1], published, 'publication time in the viewer\'s zone')

  // Next page: the cursor of the first answer, then back.
  const second = page.waitForResponse(r => r.url().includes('/v1/works/tiktok?') && r.url().includes('cursor='))
  await page.click('#works-next')
  const page2 = await (await second).json()
  t.ok(new URL((await second).url()).searchParams.get('cursor') === api.page.nextCursor, 'sends nextCursor unchanged')
  await page.waitForFunction(id => document.querySelector('#works-table tbody tr')?.getAttribute('data-work-id') === id, page2.items[0].workId)
  t.equal(await text(page, '#works-page'), 'Page 2')
  t.notSame(page2.items[0].workId, w.workId)
  await page.click('#works-prev')
  await page.waitForFunction(id => document.querySelector('#works-table tbody tr')?.getAttribute('data-work-id') === id, w.workId)
  t.equal(await text(page, '#works-page'), 'Page 1')

  // douyin cannot be listed by AiToEarn: said plainly, with the way to its videos.
  await page.selectOption('#platform', 'douyin')
  t.equal(await page.locator('#account').inputValue(), 'acc-douyin-1')
  await page.click('#works-form button[type=submit]')
  const box = page.locator('#works-status .error-box')
  await box.waitFor()
  t.equal(await box.getAttribute('data-code'), 'OPERATION_NOT_SUPPORTED')
  t.match(await box.innerText(), /taskbox/, 'points to the Douyin table')
  t.same(errors, [], 'no script error, no CSP violation')
})

test('the chart draws points for a douyin video, with totals and sources', { skip }, async t => {
  const { url } = await stack(t)
  const { page, errors, responses: [daily] } = await open(t, url, [r => r.url().includes('/v1/douyin/task-videos/daily?')])
  const dayBody = await (await daily!).json()
  const row = page.locator(`#douyin-table tbody tr[data-work-id="${VIDEO.videoId}"]`)
  await row.waitFor()
  t.equal(await page.locator('#douyin-table tbody tr').count(), dayBody.items.length)
  t.equal(await text(page, '#douyin-table tfoot td[data-metric="gmv"]'), yuan(dayBody.totals.gmv), 'day total GMV in yuan from fen')
  t.match(await text(page, '#douyin-table tfoot td[data-metric="gmv"]'), /^CN¥\d{1,3}(,\d{3})*\.\d\d$/)

  const merged = page.waitForResponse(r => r.url().includes(`/v1/works/douyin/${VIDEO.videoId}/metrics?`))
  await row.locator('button').click()
  const res = await merged
  t.equal(res.status(), 200)
  t.equal(res.headers()['x-sources-complete'], 'true')
  const sent = new URL(res.url()).searchParams
  t.equal(sent.get('accountId'), 'acc-douyin-1')
  t.ok(sent.get('publishedAt') && sent.get('douyinId'), 'the row\'s publication time and author go along as hints')
  const body = await res.json()
  await page.locator('#chart canvas').waitFor()
  t.equal(await text(page, '#work-title'), body.work.title)
  t.match(await page.locator('#chart').getAttribute('data-series'), /^playCount likeCount gmv/, 'plays and likes from Douyin\'s bill, money from Douyin')

  // Drawn, not just present: the canvas holds the strokes of the GMV and plays lines.
  t.ok(await pixels(page, COLOURS.gmv) > 100, 'GMV line and points drawn')
  t.ok(await pixels(page, COLOURS.plays) > 100, 'plays line drawn: a point per day')

  // Hover the day before the last: the legend shows that day's values.
  const over = await page.locator('#chart .u-over').boundingBox()
  const n = body.series.length
  await page.mouse.move(over!.x + over!.width * (n - 1.5) / n, over!.y + over!.height / 2)
  const legendGmv = page.locator('#chart .u-legend .u-series').nth(3).locator('.u-value')
  await page.waitForFunction(() => document.querySelectorAll('#chart .u-legend .u-value')[3]?.textContent !== '—')
  t.equal(await legendGmv.innerText(), yuan(body.series[n - 2].metrics.gmv), 'legend: that day\'s GMV in yuan')

  // Totals, sources, and the numbers as a table.
  t.equal(await text(page, '#totals [data-metric="gmv"] .tile-value'), yuan(body.totals.gmv))
  t.equal(await text(page, '#totals [data-metric="playCount"] .tile-value'), int(body.totals.playCount), 'plays to date, from Douyin')
  t.same(await sourceStates(page), ['aitoearn:skipped', 'douyin_taskbox:ok'])
  t.match(await text(page, '#sources li[data-source="aitoearn"] .source-reason'), /no work analytics for douyin/, 'why AiToEarn was not asked')
  t.match(await text(page, '#sources li[data-source="douyin_taskbox"]'), /cache: /, 'the source\'s cache status')
  await page.click('#daily-details summary')
  t.equal(await page.locator('#daily-table tbody tr').count(), n)
  const gmvColumn = (await page.locator('#daily-table thead th').allInnerTexts()).findIndex(h => h.toLowerCase() === 'gmv')
  const firstDay = await page.locator('#daily-table tbody tr').first().locator('th, td').allInnerTexts()
  t.equal(firstDay[gmvColumn], yuan(body.series[0].metrics.gmv))
  const [y, m, d] = body.series[0].date.split('-').map(Number)
  t.equal(firstDay[0], new Intl.DateTimeFormat(LOCALE, { year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(y, m - 1, d)),
    'a Beijing billing day shows as that day, not shifted by the viewer\'s zone')

  await page.locator('#work-panel').scrollIntoViewIfNeeded()
  await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true })
  t.same(errors, [], 'no script error, no CSP violation')
})

test('a failing Douyin sandbox: the merged view of its video says what failed, with no numbers made up', { skip }, async t => {
  const { url, dy } = await stack(t)
  const { page, errors } = await open(t, url)
  const row = page.locator(`#douyin-table tbody tr[data-work-id="${VIDEO.videoId}"]`)
  await row.waitFor()
  dy.forceError(28001018, 1000) // from now on Douyin refuses: the app lacks the data capability
  const merged = page.waitForResponse(r => r.url().includes('/metrics?'))
  await row.locator('button').click()
  const res = await merged
  t.equal(res.status(), 502, 'Douyin is the only source of a douyin video: its problem is the answer')
  const box = page.locator('#work-status .error-box')
  await box.waitFor()
  t.equal(await box.getAttribute('data-code'), 'UPSTREAM_CAPABILITY_MISSING')
  const said = await box.innerText()
  t.match(said, /data analysis/, 'the problem\'s detail, plainly')
  t.match(said, /upstream douyin \(28001018\)/)
  t.equal(await page.locator('#partial-notice').isHidden(), true, 'not a partial result: nothing to show')
  t.equal(await page.locator('#totals [data-metric]').count(), 0, 'no numbers made up')
  await page.screenshot({ path: screenshotPath('dashboard-douyin-failed.png'), fullPage: true })
  t.same(errors, [])
})

test('401 and 503 read plainly; the caller key entered is sent', { skip }, async t => {
  const { url, dy } = await stack(t, { BFF_API_KEYS: `dashboard:${CALLER_KEY}` })
  const { page, errors } = await open(t, url)
  const box = page.locator('#works-status .error-box')
  await box.waitFor()
  t.equal(await box.getAttribute('data-status'), '401', 'the page itself is open; the API asks for a key')
  t.match(await box.innerText(), /needs a caller key/)

  await page.fill('#caller-key', 'not-the-right-key-at-all')
  await page.click('#key-form button[type=submit]')
  await page.waitForFunction(() => /refused this caller key/.test(document.querySelector('#works-status')?.textContent ?? ''))

  const sent = page.waitForRequest(r => r.url().includes('/v1/platforms'))
  await page.fill('#caller-key', CALLER_KEY)
  await page.click('#key-form button[type=submit]')
  t.equal((await sent).headers().authorization, `Bearer ${CALLER_KEY}`)
  await page.locator('#works-table tbody tr').first().waitFor()
  await page.locator('#douyin-table tbody tr').first().waitFor()
  t.match(await text(page, '#key-state'), /key in use/)
  t.equal(await page.locator('#caller-key').inputValue(), '', 'the key is not left in the field')

  // 503: Douyin's quota used up; the message says what and when to try again.
  dy.forceError(28003017)
  await page.fill('#billing-date', await page.evaluate(() => new Date(Date.now() + 8 * 3600_000 - 2 * 86_400_000).toISOString().slice(0, 10)))
  await page.click('#douyin-form button[type=submit]')
  const unavailable = page.locator('#douyin-status .error-box')
  await unavailable.waitFor()
  t.equal(await unavailable.getAttribute('data-status'), '503')
  t.equal(await unavailable.getAttribute('data-code'), 'UPSTREAM_QUOTA_EXHAUSTED')
  t.match(await unavailable.innerText(), /quota is used up.*Try again in \d+ s\./s)
  t.same(errors, [])
})

test('429 reads plainly', { skip }, async t => {
  // Three API calls per window: the page's first three (platforms, Douyin day, works list).
  const { url } = await stack(t, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_S: '600' })
  const { page, errors } = await open(t, url)
  await page.locator('#works-table tbody tr').first().waitFor()
  await page.locator('#douyin-table tbody tr').first().waitFor()
  await page.click('#works-next') // a new URL: the browser cannot answer it from its cache
  const box = page.locator('#works-status .error-box')
  await box.waitFor()
  t.equal(await box.getAttribute('data-status'), '429')
  t.match(await box.innerText(), /Too many requests from this address.*Try again in \d+ s\./s)
  t.same(errors, [])
})

test('"Download CSV" saves the table the panel shows, with the caller key, as a spreadsheet-ready file', { skip }, async t => {
  const { url } = await stack(t, { BFF_API_KEYS: `dash:${CALLER_KEY}` })
  const { page, errors } = await open(t, url)
  t.equal(await page.locator('#works-csv').isHidden(), true, 'no button before a table is shown')
  await page.fill('#caller-key', CALLER_KEY)
  await page.click('#key-form button[type=submit]')
  await page.locator('#works-table tbody tr').nth(19).waitFor()
  const asked = page.waitForRequest(r => r.url().includes('/v1/works/tiktok?') && (r.headers().accept ?? '').startsWith('text/csv'))
  const download = page.waitForEvent('download')
  await page.click('#works-csv')
  t.equal((await asked).headers().authorization, `Bearer ${CALLER_KEY}`, 'the key goes with the download')
  const file = await download
  t.equal(file.suggestedFilename(), 'works-tiktok-acc-tiktok-1.csv', 'saved under the name the service gives')
  const csv = readFileSync(await file.path(), 'utf8')
  t.ok(csv.startsWith('\uFEFFplatform,workId,'), 'UTF-8 BOM, then the header row')
  t.equal(csv.trimEnd().split('\r\n').length, 21, 'header and the 20 works of the page')
  await page.locator('#works-status', { hasText: 'Saved works-tiktok-acc-tiktok-1.csv' }).waitFor()
  t.same(errors, [], 'no script error, no CSP violation')
})
