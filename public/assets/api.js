// Calls the BFF's own API (same origin): sends the caller key when one is set, turns every
// failure into an ApiError whose `message` a person can read.
/* global location, document, URL */

const KEY_NAME = 'metrics-bff.caller-key'

/** The caller key: this tab's (sessionStorage), else a remembered one (localStorage). */
export function callerKey () {
  return sessionStorage.getItem(KEY_NAME) ?? localStorage.getItem(KEY_NAME) ?? ''
}

export function setCallerKey (key, remember) {
  forgetCallerKey()
  if (!key) return
  sessionStorage.setItem(KEY_NAME, key)
  if (remember) localStorage.setItem(KEY_NAME, key)
}

export function forgetCallerKey () {
  sessionStorage.removeItem(KEY_NAME)
  localStorage.removeItem(KEY_NAME)
}

export class ApiError extends Error {
  /**
   * @param {string} message what happened, for people
   * @param {{ status: number, problem?: any, retryAfter?: number }} info
   */
  constructor (message, { status, problem, retryAfter }) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
    this.retryAfter = retryAfter
  }
}

/** True when the service said the answer came from a sandbox upstream. */
export let sandboxSeen = false

/**
 * GET a path of the API with query parameters (undefined and '' are left out).
 * @returns {Promise<{ body: any, headers: Headers, status: number }>}
 */
export async function get (path, params = {}, { signal } = {}) {
  const { res, key } = await call(path, params, 'application/json, application/problem+json', signal)
  const body = await problemOrJson(res)
  if (!res.ok) throw toApiError(res, body, Boolean(key))
  return { body, headers: res.headers, status: res.status }
}

/**
 * GET a path of the API as CSV (`Accept: text/csv`) and save it as the file the service names
 * (Content-Disposition). The key goes in a header as for `get`, so a plain link would not do.
 */
export async function downloadCsv (path, params = {}) {
  const { res, key } = await call(path, params, 'text/csv, application/problem+json;q=0.5')
  if (!res.ok) throw toApiError(res, await problemOrJson(res), Boolean(key))
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'metrics.csv'
  const link = document.createElement('a')
  link.href = URL.createObjectURL(await res.blob())
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 1000)
  return name
}

async function call (path, params, accept, signal) {
  const url = new URL(path, location.origin)
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value))
  }
  const key = callerKey()
  const headers = { accept }
  if (key) headers.authorization = `Bearer ${key}`
  let res
  try {
    res = await fetch(url, { headers, signal })
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    if (key && err instanceof TypeError && /header/i.test(err.message)) {
      throw new ApiError('The caller key contains characters that cannot be sent in a header. Check the key.', { status: 0 })
    }
    throw new ApiError('Could not reach the service. Is it running, and is the network up?', { status: 0 })
  }
  if (res.headers.get('x-bff-sandbox') === '1') sandboxSeen = true
  return { res, key }
}

async function problemOrJson (res) {
  const text = await res.text()
  try {
    return text ? JSON.parse(text) : null
  } catch {
    return null
  }
}

function toApiError (res, body, keySent) {
  const problem = body && typeof body === 'object' && typeof body.status === 'number' ? body : undefined
  const retryAfter = seconds(res.headers.get('retry-after')) ?? seconds(res.headers.get('ratelimit-reset'))
  const again = retryAfter ? `Try again in ${retryAfter} s.` : 'Try again in a moment.'
  const detail = problem?.detail ? ` ${sentence(problem.detail)}` : ''
  let message
  switch (res.status) {
    case 401:
      message = keySent
        ? 'The service refused this caller key. Check the key under “Caller key” at the top.'
        : 'This service needs a caller key. Enter it under “Caller key” at the top.'
      break
    case 403:
      message = `This caller key may not do that.${detail}`
      break
    case 429:
      message = `Too many requests ${keySent ? 'with this caller key' : 'from this address'}: the service limits each caller. ${again}`
      break
    case 503:
      message = `${problem?.title ?? 'The service is busy or an upstream is unavailable'}.${detail} ${again}`
      break
    case 504:
      message = `${problem?.title ?? 'The upstream did not answer in time'}.${detail} ${again}`
      break
    default:
      message = problem
        ? `${problem.title}.${detail}`
        : `The service answered HTTP ${res.status} ${res.statusText || ''}`.trim() + '.'
  }
  return new ApiError(message, { status: res.status, problem, retryAfter })
}

function seconds (value) {
  if (!value) return undefined
  const n = Number(value)
  if (Number.isFinite(n) && n >= 0) return Math.max(1, Math.ceil(n))
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - Date.now()) / 1000))
}

function sentence (text) {
  const t = String(text).trim()
  return /[.!?:)]$/.test(t) ? t : `${t}.`
}
