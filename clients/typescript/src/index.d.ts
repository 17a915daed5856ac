/**
 * Typed client of the metrics BFF: openapi-fetch over the types openapi-typescript generates from
 * the service's openapi.yaml (src/schema.d.ts, `npm run client:generate` at the repo root).
 *
 *   const bff = createMetricsBffClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.BFF_KEY })
 *   const { data, error } = await bff.GET('/v1/works/{platform}', { params: { path: { platform: 'tiktok' }, query: { accountId: 'acc-tiktok-1' } } })
 *
 * Every error the service answers is an `application/problem+json` Problem: switch on `error.code`.
 */
import type { Client } from 'openapi-fetch'
import type { components, operations, paths } from './schema.js'

export type { components, operations, paths }

type Schemas = components['schemas']
/** The JSON body of an operation's 200 answer. */
type Ok<Op extends keyof operations> = operations[Op]['responses'] extends { 200: { content: { 'application/json': infer Body } } } ? Body : never

/** RFC 9457 problem details of every error answer; `code` is the stable UPPER_SNAKE code to switch on. */
export type Problem = Schemas['Problem']
export type Platform = Schemas['Platform']
export type Metrics = Schemas['Metrics']
export type ToDate = Schemas['ToDate']
export type Work = Schemas['Work']
export type SeriesPoint = Schemas['SeriesPoint']
export type Page = Schemas['Page']

/** `GET /v1/platforms` (listPlatforms). */
export type Platforms = Ok<'listPlatforms'>
export type PlatformInfo = Platforms['platforms'][number]
/** `GET /v1/works/{platform}` (listWorks). */
export type WorksPage = Ok<'listWorks'>
/** `GET /v1/works/{platform}/{workId}/analytics` (getWorkAnalytics). */
export type WorkAnalytics = Ok<'getWorkAnalytics'>
/** `GET /v1/douyin/task-videos/daily` (getDouyinDailyData). */
export type DouyinDaily = Ok<'getDouyinDailyData'>
export type DouyinApiUsed = DouyinDaily['apis'][number]
export type RowWarning = DouyinDaily['warnings'][number]
/** `GET /v1/works/{platform}/{workId}/metrics` (getWorkMetrics): one work, its sources merged by date. */
export type MergedView = Ok<'getWorkMetrics'>
export type MergedSource = MergedView['sources'][number]

/**
 * The media types the client is typed for: JSON answers and problem+json errors. Routes that can
 * also answer CSV (`format=csv` or `Accept: text/csv`) still type `data` as their JSON body; ask for
 * CSV with `parseAs: 'text'` to get the file as a string.
 */
export type JsonMedia = 'application/json' | 'application/problem+json'

export type MetricsBffClient = Client<paths, JsonMedia>

export interface MetricsBffClientOptions {
  /** Where the service answers, e.g. `http://metrics-bff:3000` (no trailing `/v1`). */
  baseUrl: string
  /** A caller key of the service's BFF_API_KEYS, sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string
  /** A fetch of your own (tests, proxies, retries); defaults to globalThis.fetch. */
  fetch?: (input: Request) => Promise<Response>
}

/**
 * An openapi-fetch client typed with the service's paths. With `apiKey`, every request carries
 * `Authorization: Bearer <apiKey>` unless the call sets its own Authorization header.
 * Throws a TypeError at once for a bad `baseUrl` or `apiKey`; its message never contains the key.
 */
export declare function createMetricsBffClient (options: MetricsBffClientOptions): MetricsBffClient

/** Whether a value is a Problem of the service (an `error` of the client is one for every documented error). */
export declare function isProblem (value: unknown): value is Problem
