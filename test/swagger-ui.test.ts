/**
 * Swagger UI at /docs as a new user meets it, with caller keys on: Debian's Chromium, headless,
 * driven by playwright-core, against the whole app listening on 127.0.0.1 with both sandbox
 * upstreams. "Authorize" with the key, then every operation the page lists: "Try it out" with the
 * prefilled examples as they are, "Execute", and the answer the UI shows (and the one the network
 * carried) must be 2xx, with the key sent where the operation needs one. Skipped (with the reason)
 * only when /usr/bin/chromium is missing; CI installs it.
 */
import { test } from 'tap'
import type { AddressInfo } from 'node:net'
import type { Locator, Page, Response } from 'playwright-core'
import { launchChromium, noChromium } from './helpers/chromium.js'
import { buildApp } from './helpers/app.js'
import type { Tap } from './helpers/redis.js'
import { sandboxEnv, startSandboxes } from './helpers/stack.js'

const CALLER_KEY = 'swagger-ui-test-key-0123456789'
/** The operations of the API, in the page's order (the OpenAPI document must list exactly these). */
const OPERATIONS = [
  'listPlatforms', 'listWorks', 'getWorkAnalytics', 'getDouyinDailyData', 'getWorkMetrics',
  'getPrometheusMetrics', 'getLiveness', 'getReadiness'
]

const skip = noChromium('Swagger UI test')

/** Both sandboxes and the app on them with one caller key configured, listening. */
async function stack (t: Tap): Promise<string> {
  const sandboxes = await startSandboxes(t)
  const app = await buildApp(t, { SANDBOX: 'true', ...sandboxEnv(sandboxes), BFF_API_KEYS: `docs-user:${CALLER_KEY}` })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** One operation of the OpenAPI document Swagger UI loaded. */
interface Operation { id: string, method: string, path: string, secured: boolean }

interface OpenApi {
  security?: unknown[]
  paths: Record<string, Record<string, { operationId?: string, security?: unknown[] }>>
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

function operationsOf (doc: OpenApi): Operation[] {
  const out: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue
      const security = op.security ?? doc.security ?? []
      out.push({ id: op.operationId ?? `${method} ${path}`, method: method.toUpperCase(), path, secured: security.length > 0 })
    }
  }
  return out
}

/** Whether a URL's path is an instance of an OpenAPI path template. */
function matchesTemplate (url: string, template: string): boolean {
  const pattern = template.split(/\{[^}]+\}/).map(s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')
  return new RegExp(`^${pattern}$`).test(new URL(url).pathname)
}

/** A new tab on /docs, rendered; the OpenAPI document the UI loaded; the page's script errors. */
async function openDocs (t: Tap, base: string): Promise<{ page: Page, doc: OpenApi, errors: string[] }> {
  const page = await (await launchChromium()).newPage()
  page.setDefaultTimeout(15_000)
  t.teardown(() => page.close())
  const errors: string[] = []
  page.on('pageerror', e => errors.push(`pageerror: ${e.message}`))
  const spec = page.waitForResponse(r => new URL(r.url()).pathname === '/docs/json')
  await page.goto(`${base}/docs`)
  const doc = await (await spec).json() as OpenApi
  await page.locator('.swagger-ui .opblock').first().waitFor()
  return { page, doc, errors }
}

/** The block of an operation (deepLinking: its id is operations-<tag>-<operationId>). */
const block = (page: Page, id: string): Locator => page.locator(`.opblock[id$="-${id}"]`).first()

/** What Swagger UI showed after "Execute" and what went over the wire. */
interface Executed { ui: number, uiUrl: string, res: Response, headers: Record<string, string>, body: string }

/** Expands an operation, "Try it out" with the prefilled values, "Execute"; the live answer. */
async function execute (page: Page, op: Operation): Promise<Executed> {
  const el = block(page, op.id)
  await el.locator('.opblock-summary').first().click()
  await el.locator('button.try-out__btn').click()
  await el.locator('button.execute').waitFor()
  const wire = page.waitForResponse(r => r.request().method() === op.method && matchesTemplate(r.url(), op.path))
  await el.locator('button.execute').click()
  const res = await wire
  const status = el.locator('.live-responses-table tbody .response-col_status').first()
  await status.waitFor()
  const shown = (await status.innerText()).trim()
  const uiUrl = (await el.locator('.request-url pre').first().innerText().catch(() => '')).trim()
  return {
    ui: Number(/^\d{3}/.exec(shown)?.[0] ?? NaN),
    uiUrl,
    res,
    headers: await res.request().allHeaders(),
    body: await res.text().catch(e => `(body unavailable: ${(e as Error).message})`)
  }
}

/** Sent the caller key, by either scheme. */
const carriesKey = (h: Record<string, string>) => h.authorization === `Bearer ${CALLER_KEY}` || h['x-api-key'] === CALLER_KEY

test('without Authorize, a /v1 operation answers 401 in Swagger UI', { skip }, async t => {
  const url = await stack(t)
  const { page, doc, errors } = await openDocs(t, url)
  const op = operationsOf(doc).find(o => o.id === 'listPlatforms')
  if (!op) throw new Error('listPlatforms is not in the OpenAPI document')
  const got = await execute(page, op)
  t.equal(got.ui, 401, `${op.id}: 401 in the UI without a key`)
  t.equal(got.res.status(), 401, `${op.id}: 401 on the wire`)
  t.notOk(got.headers.authorization ?? got.headers['x-api-key'], `${op.id}: no key was sent`)
  t.same(errors, [], 'no script error on the page')
})

test('with Authorize, every operation answers 2xx with its prefilled examples', { skip }, async t => {
  const url = await stack(t)
  const { page, doc, errors } = await openDocs(t, url)

  // The operations: those the page lists (grouped by tag), each one of the document's; the API's eight.
  const inDoc = new Map(operationsOf(doc).map(o => [o.id, o]))
  const listed = await page.locator('.opblock').evaluateAll(els => els.map(e => (e as unknown as { id: string }).id))
  const operations = listed.map(id => [...inDoc.values()].find(o => id.startsWith('operations-') && id.endsWith(`-${o.id}`)))
    .filter(o => o !== undefined)
  t.equal(operations.length, listed.length, 'every operation the page lists is one of the OpenAPI document\'s')
  t.same(operations.map(o => o.id).sort(), [...inDoc.keys()].sort(), 'the page lists each of the document\'s operations once')
  t.equal(operations.length, 8, 'eight operations')
  t.same(operations.map(o => o.id).sort(), [...OPERATIONS].sort(), 'the API\'s operations, by operationId')
  t.same(operations.filter(o => !o.secured).map(o => o.id).sort(), ['getLiveness', 'getReadiness'], 'only the probes need no key')

  // Authorize: the key in the bearer scheme, applied, dialog closed.
  await page.locator('.auth-wrapper button.authorize').click()
  const dialog = page.locator('.dialog-ux .modal-ux')
  await dialog.waitFor()
  const bearer = dialog.locator('.auth-container').filter({ hasText: 'bearerKey' })
  await bearer.locator('input[aria-label="auth-bearer-value"]').fill(CALLER_KEY)
  await bearer.locator('button.authorize').click()
  await bearer.locator('button', { hasText: 'Logout' }).waitFor()
  t.match(await bearer.innerText(), /Authorized/, 'bearerKey: authorized')
  await dialog.locator('button.btn-done').first().click()
  await dialog.waitFor({ state: 'detached' })

  for (const op of operations) {
    const got = await execute(page, op)
    const ok = got.ui >= 200 && got.ui < 300
    t.ok(ok, `${op.id}: ${got.ui} in the UI (2xx expected)`, ok
      ? {}
      : { requestUrl: got.res.url(), shownUrl: got.uiUrl, body: got.body.slice(0, 4000) })
    if (!ok) t.comment(`${op.id} did not answer 2xx: ${op.method} ${got.res.url()}\n${got.body.slice(0, 4000)}`)
    t.equal(got.res.status(), got.ui, `${op.id}: the same status on the wire`)
    if (op.secured) {
      t.ok(carriesKey(got.headers), `${op.id}: the request carried the caller key`,
        { authorization: got.headers.authorization ? 'sent' : 'absent', 'x-api-key': got.headers['x-api-key'] ? 'sent' : 'absent' })
    }
    // Done with it: collapsed again, as a reader would, so the page does not grow with every answer.
    await block(page, op.id).locator('.opblock-summary').first().click()
    await block(page, op.id).locator('.opblock-body').waitFor({ state: 'detached' })
  }
  t.same(errors, [], 'no script error on the page')
})
