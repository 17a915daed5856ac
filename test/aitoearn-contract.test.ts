/**
 * The contract with the real AiToEarn, from its source (test/fixtures/aitoearn-providers.ts):
 * every row against the sandbox over real HTTP (it must answer as the real provider does), and
 * through the BFF (the mapping keeps exactly the metrics the provider fills, null for the rest).
 */
import t from 'tap'
import { buildApp } from './helpers/app.js'
import { ACCOUNT, PROVIDERS } from './fixtures/aitoearn-providers.js'
import { startAitoearnSandbox } from '../src/sandbox/aitoearn/server.js'
import { seedAccounts } from '../src/sandbox/aitoearn/data.js'
import { SANDBOX_AITOEARN_API_KEY } from '../src/sandbox/seed.js'

const sandbox = await startAitoearnSandbox()
t.teardown(() => sandbox.close())
const app = await buildApp(t, { AITOEARN_BASE_URL: sandbox.url, AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY })
const accounts = seedAccounts()

async function upstream (path: string): Promise<{ code: number, message: string, data: any }> {
  return await (await fetch(`${sandbox.url}/api/v2/channels${path}`, { headers: { 'x-api-key': SANDBOX_AITOEARN_API_KEY } })).json() as { code: number, message: string, data: any }
}
const filled = (metrics: Record<string, unknown>) => Object.keys(metrics).filter(k => metrics[k] !== null).sort()

for (const row of PROVIDERS) {
  t.test(`${row.platform} (${row.source})`, async t => {
    const accountId = ACCOUNT[row.platform]!
    const work = accounts.get(accountId)!.works[0]!
    const id = encodeURIComponent(work.platformWorkId)

    const analytics = await upstream(`/works/${row.platform}/${id}/analytics?accountId=${accountId}`)
    t.equal(analytics.code, 0)
    if (row.analytics === undefined) {
      t.match(analytics.data, { accountId, message: 'Work analytics not supported', snapshots: [] }, 'the sandbox: no provider')
      const ours = await app.inject({ url: `/v1/works/${row.platform}/${id}/analytics?accountId=${accountId}` })
      t.equal(ours.statusCode, 422, 'the BFF: 422 OPERATION_NOT_SUPPORTED')
    } else {
      const d = analytics.data
      t.same(Object.keys(d.metrics).sort(), [...row.analytics].sort(), 'the sandbox fills exactly the provider\'s metrics')
      t.same(d.platform, row.platform)
      t.equal(d.platformWorkId, work.platformWorkId)
      const snap = d.snapshots.at(-1)
      if (row.snapshotAt === 'publish') t.equal(snap.snapshotAt, work.publishedAt, 'snapshotAt is the publish time')
      if (row.snapshotAt === 'fetch') t.equal(snap.snapshotAt, snap.fetchedAt, 'snapshotAt is the fetch time')
      if (row.snapshotAt === 'day') {
        t.match(snap.snapshotAt, /T00:00:00\.000Z$/, 'one snapshot per UTC day')
        t.ok(d.snapshots.length >= 30, `the default window is 30 days (${d.snapshots.length} snapshots)`)
      }
      t.notOk('periodStartAt' in snap, 'no provider sets periodStartAt')
      t.equal(d.work.mediaType, row.mediaType, `mediaType ${String(row.mediaType)}`)
      for (const key of row.extra ?? []) t.ok(key in (d.extra ?? {}), `extra.${key}`)

      const unknown = await upstream(`/works/${row.platform}/no-such-work/analytics?accountId=${accountId}`)
      t.equal(unknown.code, row.unknown, `an unknown id answers code ${String(row.unknown)}`)
      if (row.unknown === 0) t.ok(Object.values(unknown.data.metrics).every(v => v === 0), 'with zeros')

      const ours = (await app.inject({ url: `/v1/works/${row.platform}/${id}/analytics?accountId=${accountId}` })).json()
      t.same(filled(ours.work.metrics), [...row.analytics].sort(), 'the BFF keeps exactly those metrics, null for the rest')
      for (const point of ours.series) {
        if (row.snapshotAt === 'publish') t.equal(point.at, ours.fetchedAt, 'never placed at the publish time')
      }
    }

    const list = await upstream(`/works/${row.platform}?accountId=${accountId}`)
    if (row.list === undefined) {
      t.equal(list.code, 15080, 'no listing: 15080')
    } else {
      t.equal(list.code, 0)
      const item = list.data.items[0]
      if (row.list === null) t.notOk('metrics' in item, 'list items carry no metrics')
      else t.same(Object.keys(item.metrics).sort(), [...row.list].sort(), 'list items carry exactly these metrics')
      const ours = (await app.inject({ url: `/v1/works/${row.platform}?accountId=${accountId}` })).json()
      t.same(filled(ours.items[0].metrics), [...(row.list ?? [])].sort(), 'the BFF lists exactly those, null for the rest')
    }
  })
}
