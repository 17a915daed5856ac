import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from './helpers/app.js'
import { PUBLIC_DIR, UPLOT_DIR } from '../src/routes/web.js'

test('GET / serves the dashboard page with a strict same-origin policy', async t => {
  const app = await buildApp(t)
  const res = await app.inject({ url: '/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.equal(res.body, readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8'))
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, /default-src 'self'/)
  t.match(csp, /script-src 'self'(;|$)/, 'no inline script, no other origin')
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.ok(res.headers.etag, 'revalidated by ETag')
  const again = await app.inject({ url: '/', headers: { 'if-none-match': String(res.headers.etag) } })
  t.equal(again.statusCode, 304)

  const refs = [...res.body.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map(m => m[1]!)
  t.ok(refs.length >= 4, 'the page names its scripts, styles and icon')
  for (const path of refs) {
    const asset = await app.inject({ url: path })
    t.equal(asset.statusCode, 200, `${path} is served`)
  }
  const app1 = await app.inject({ url: '/assets/app.js' })
  t.match(app1.headers['content-type'], /^(text|application)\/javascript/, 'ES modules need a JavaScript type')
})

test('uPlot comes from node_modules under /vendor/uplot/, and only the two files the page uses', async t => {
  const app = await buildApp(t)
  const esm = await app.inject({ url: '/vendor/uplot/uPlot.esm.js' })
  t.equal(esm.statusCode, 200)
  t.match(esm.headers['content-type'], /javascript/)
  t.equal(esm.body, readFileSync(join(UPLOT_DIR, 'uPlot.esm.js'), 'utf8'), 'the installed package, byte for byte')
  const css = await app.inject({ url: '/vendor/uplot/uPlot.min.css' })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /^text\/css/)
  for (const url of ['/vendor/uplot/uPlot.cjs.js', '/vendor/uplot/package.json', '/vendor/uplot/../uplot/package.json', '/vendor/', '/vendor/uplot/']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'ROUTE_NOT_FOUND')
  }
})

test('no catch-all: unknown paths, traversal and dotfiles stay problems; the API is unchanged', async t => {
  const app = await buildApp(t)
  for (const url of ['/nope', '/assets/', '/assets/../package.json', '/assets/%2e%2e/package.json', '/%2e%2e/package.json', '/.env', '/assets/app.js.map', '/index.htm']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${url}: a problem`)
  }
  const post = await app.inject({ method: 'POST', url: '/' })
  t.equal(post.statusCode, 404, 'GET and HEAD only')
  const head = await app.inject({ method: 'HEAD', url: '/' })
  t.equal(head.statusCode, 200)
  const doc = (await app.inject({ url: '/docs/json' })).json()
  t.notOk(Object.keys(doc.paths).some(p => p === '/' || p.startsWith('/assets') || p.startsWith('/vendor')), 'static files are not API operations')
})

test('with caller keys the page and its files stay open, the API does not', async t => {
  const app = await buildApp(t, { BFF_API_KEYS: 'dash:web-static-test-key-0123' })
  for (const url of ['/', '/assets/app.js', '/assets/style.css', '/assets/favicon.svg', '/vendor/uplot/uPlot.esm.js']) {
    t.equal((await app.inject({ url })).statusCode, 200, `${url} without a key`)
  }
  const api = await app.inject({ url: '/v1/platforms' })
  t.equal(api.statusCode, 401)
  t.equal(api.json().code, 'UNAUTHORIZED')
})
