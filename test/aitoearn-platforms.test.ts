import t from 'tap'
import { readFileSync } from 'node:fs'
import { platformFactsTable } from '../src/upstream/aitoearn/platforms.js'
import { buildApp } from './helpers/app.js'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

const sandbox = await startAitoearnSandbox()
t.teardown(() => sandbox.close())

t.test('GET /v1/platforms: capabilities from AiToEarn and our sources, cached', async t => {
  const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
  sandbox.requests.length = 0
  const res = await app.inject({ url: '/v1/platforms' })
  t.equal(res.statusCode, 200, 'HTTP 200', { body: res.body })
  const { platforms, fetchedAt } = res.json()
  t.match(fetchedAt, /Z$/)
  const by = Object.fromEntries(platforms.map((p: { platform: string }) => [p.platform, p]))
  t.same(by.douyin.sources, ['douyin_taskbox'], 'AiToEarn neither lists nor analyses douyin works')
  t.same(by.tiktok.sources, ['aitoearn'])
  t.match(by.tiktok.capabilities, { listWorks: true, workAnalytics: true, pagination: { mode: 'cursor', maxLimit: 20, defaultLimit: 20, supportsPrevious: false } })
  // AiToEarn's own list says analytics.work for douyin and xhs; its endpoint cannot serve them.
  t.match(by.douyin.capabilities, { listWorks: false, workAnalytics: false })
  t.match(by.xhs.capabilities, { listWorks: false, workAnalytics: false })
  t.same(platforms.filter((p: { capabilities: { workAnalytics: boolean } }) => p.capabilities.workAnalytics).map((p: { platform: string }) => p.platform).sort(),
    ['KWAI', 'bilibili', 'facebook', 'instagram', 'pinterest', 'threads', 'tiktok', 'twitter', 'youtube'], 'work analytics: exactly the nine platforms with a provider')
  t.equal(by.wxGzh.capabilities.workAnalytics, false)
  t.equal(by.google_business, undefined, 'hidden on AiToEarn: not listed')
  t.equal(by.youtube.name, 'YouTube', 'the display name, from its en-US entry')
  t.equal(sandbox.requests.length, 1)
  t.equal(sandbox.requests[0]!.headers['x-api-key'], undefined, 'the platform list is keyless: the key is not sent')

  await app.inject({ url: '/v1/platforms' })
  t.equal(sandbox.requests.length, 1, 'the second answer comes from the in-process copy')
})

t.test('an upstream failure is a problem and is not cached', async t => {
  const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
  sandbox.addFault({ kind: 'body', path: '/platforms', times: 1, body: JSON.stringify({ code: 0, message: '请求成功', data: [{ name: 'no platform field' }] }) })
  const bad = await app.inject({ url: '/v1/platforms' })
  t.equal(bad.statusCode, 502)
  t.equal(bad.json().code, 'UPSTREAM_BAD_RESPONSE')
  t.equal((await app.inject({ url: '/v1/platforms' })).statusCode, 200)
})

t.test('the OpenAPI document shows the shapes with descriptions', async t => {
  const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
  const doc = (await app.inject({ url: '/docs/json' })).json()
  const list = doc.paths['/v1/works/{platform}'].get
  t.same(list.tags, ['works'])
  t.ok(list.description.includes('OPERATION_NOT_SUPPORTED'))
  t.ok(list.parameters.some((p: { name: string, in: string, schema: { enum?: string[] } }) => p.name === 'platform' && p.in === 'path' && p.schema.enum?.includes('KWAI')))
  t.ok(list.parameters.some((p: { name: string, description?: string }) => p.name === 'limit' && /tiktok 20\/20/.test(p.description ?? '')))
  t.ok(list.responses['422'] && list.responses['502'] && list.responses['504'])
  const analytics = doc.paths['/v1/works/{platform}/{workId}/analytics'].get
  t.ok(analytics.parameters.some((p: { name: string }) => p.name === 'since'))
  t.same(doc.paths['/v1/platforms'].get.tags, ['platforms'])
  t.match(JSON.stringify(doc.components.schemas), /null means the source does not report it/)
})

t.test('the README and /docs show the table of what each platform reports that the mapping applies', async t => {
  const table = platformFactsTable()
  t.ok(readFileSync(new URL('../README.md', import.meta.url), 'utf8').includes(table), 'README: regenerate with platformFactsTable()')
  const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
  const doc = (await app.inject({ url: '/docs/json' })).json()
  t.ok(doc.paths['/v1/works/{platform}/{workId}/analytics'].get.description.includes(table), '/docs')
  t.match(table, /\| douyin \| no \|/)
  t.equal(table.split('\n').filter(l => /\| yes \|/.test(l)).length, 9, 'work analytics on 9 platforms')
})
