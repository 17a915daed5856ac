import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import type { Tap } from './redis.js'
import { startAitoearnSandbox, type AitoearnSandbox } from '../../src/sandbox/aitoearn/server.js'
import { startDouyinSandbox, type DouyinSandbox, type DouyinSandboxOptions } from '../../src/sandbox/douyin/server.js'
import {
  DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday
} from '../../src/sandbox/seed.js'
import { addDays } from '../../src/schemas/dates.js'
import { seedAccounts } from '../../src/sandbox/aitoearn/data.js'
import { publishTime } from '../../src/sandbox/seed.js'

export interface Sandboxes { ai: AitoearnSandbox, dy: DouyinSandbox }

/** Both sandbox upstreams, closed when the test ends. */
export async function startSandboxes (t: Tap, douyin: DouyinSandboxOptions = {}): Promise<Sandboxes> {
  const [ai, dy] = await Promise.all([startAitoearnSandbox(), startDouyinSandbox(douyin)])
  t.teardown(() => Promise.all([ai.close(), dy.close()]))
  return { ai, dy }
}

/** The environment that points the service at both sandboxes, with their credentials. */
export function sandboxEnv (s: Sandboxes): Record<string, string> {
  return {
    AITOEARN_BASE_URL: s.ai.url,
    AITOEARN_API_KEY: SANDBOX_AITOEARN_API_KEY,
    DOUYIN_BASE_URL: s.dy.url,
    DOUYIN_CLIENT_KEY: SANDBOX_DOUYIN_CLIENT_KEY,
    DOUYIN_CLIENT_SECRET: SANDBOX_DOUYIN_CLIENT_SECRET,
    // The sandbox's bill file host: plain HTTP on 127.0.0.1, allowed as that one origin.
    DOUYIN_BILL_HOSTS: `byteimg.com,${s.dy.cdn.url}`
  }
}

/** The whole app pointed at both sandboxes with their credentials. */
export function stackApp (t: Tap, s: Sandboxes, env: Record<string, string> = {}): Promise<FastifyInstance> {
  return buildApp(t, { ...sandboxEnv(s), ...env })
}

/** One valid request per API route (the sandboxes answer each with 200). */
export function routeRequests (): Array<{ route: string, url: string }> {
  const yesterday = addDays(beijingToday(), -1)
  const video = DOUYIN_VIDEOS[0]!
  const tiktok = seedAccounts().get('acc-tiktok-1')!.works[0]!.platformWorkId
  const published = encodeURIComponent(new Date(publishTime(video) * 1000).toISOString())
  return [
    { route: '/v1/platforms', url: '/v1/platforms' },
    { route: '/v1/works/:platform', url: '/v1/works/tiktok?accountId=acc-tiktok-1&limit=5' },
    { route: '/v1/works/:platform/:workId/analytics', url: `/v1/works/tiktok/${tiktok}/analytics?accountId=acc-tiktok-1` },
    { route: '/v1/douyin/task-videos/daily', url: `/v1/douyin/task-videos/daily?billingDate=${yesterday}` },
    { route: '/v1/works/:platform/:workId/metrics', url: `/v1/works/douyin/${video.videoId}/metrics?accountId=${DOUYIN_ACCOUNT_ID}&until=${yesterday}&publishedAt=${published}` }
  ]
}

/** The GET routes under /v1 the app has, by their pattern (from its OpenAPI document). */
export function apiRoutes (app: FastifyInstance): string[] {
  const doc = app.swagger() as { paths: Record<string, { get?: unknown }> }
  return Object.keys(doc.paths).filter(p => p.startsWith('/v1/') && doc.paths[p]!.get).map(p => p.replace(/\{(\w+)\}/g, ':$1'))
}

/** The documented answers of a route: status -> the problem codes its description names. */
export function documentedAnswers (app: FastifyInstance, route: string): Map<number, string[]> {
  const doc = app.swagger() as { paths: Record<string, { get: { responses: Record<string, { description?: string }> } }> }
  const op = doc.paths[route.replace(/:(\w+)/g, '{$1}')]!.get
  const out = new Map<number, string[]>()
  for (const [status, r] of Object.entries(op.responses)) out.set(Number(status), [...(r.description ?? '').matchAll(/`([A-Z_]+)`/g)].map(m => m[1]!))
  return out
}
