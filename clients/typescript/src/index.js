// The client's code, plain JavaScript so that Node runs it as installed (no build step, no
// TypeScript loader); its types are index.d.ts, over the generated schema.d.ts.
import createClient from 'openapi-fetch'

/** What a header value may hold, and what the service accepts as a key: visible ASCII, no spaces. */
const KEY_CHARS = /^[\x21-\x7e]+$/

/** @type {import('./index.js').createMetricsBffClient} */
export function createMetricsBffClient (options) {
  const { baseUrl, apiKey, fetch } = options
  let url
  try {
    url = new URL(baseUrl)
  } catch {
    throw new TypeError('createMetricsBffClient: baseUrl must be an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('createMetricsBffClient: baseUrl must be an absolute http(s) URL')
  if (apiKey !== undefined && (typeof apiKey !== 'string' || !KEY_CHARS.test(apiKey))) {
    // Never echo the key: a header error of fetch would quote it.
    throw new TypeError('createMetricsBffClient: apiKey must be a non-empty string of visible ASCII characters (the key is not shown)')
  }
  const client = createClient({ baseUrl: baseUrl.replace(/\/+$/, ''), ...(fetch ? { fetch } : {}) })
  if (apiKey !== undefined) {
    client.use({
      onRequest ({ request }) {
        if (!request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${apiKey}`)
        return request
      }
    })
  }
  return client
}

/** @type {import('./index.js').isProblem} */
export function isProblem (value) {
  return typeof value === 'object' && value !== null &&
    typeof value.code === 'string' && typeof value.status === 'number'
}
