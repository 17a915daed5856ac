import { HttpProblem } from '../../errors.js'

/** Douyin taskbox `err_no` values and what the client does about each. */
export const ERR = {
  OK: 0,
  INTERNAL: 28001005,
  NETWORK: 28001006,
  INVALID_PARAM: 28001007,
  TOKEN_EXPIRED: 28001008,
  /** Not in the taskbox table: Douyin's general "access_token invalid" (e.g. superseded by newer tokens). */
  TOKEN_INVALID: 28001003,
  START_TOO_OLD: 28013009,
  PAGE_TOO_LARGE: 28013010,
  TOO_FREQUENT: 28003018,
  NO_CAPABILITY: 28001018,
  RISK_CONTROL: 28001052,
  QUOTA_USED_UP: 28003017
} as const

export type ErrAction = 'ok' | 'renew-token' | 'retry' | 'slow-down' | 'fail'

/** What to do with an err_no before giving up: renew the token once, retry with backoff, cool down. */
export function actionFor (errNo: number): ErrAction {
  switch (errNo) {
    case ERR.OK: return 'ok'
    case ERR.TOKEN_EXPIRED:
    case ERR.TOKEN_INVALID: return 'renew-token'
    case ERR.INTERNAL:
    case ERR.NETWORK: return 'retry'
    case ERR.TOO_FREQUENT: return 'slow-down'
    default: return 'fail'
  }
}

export interface UpstreamSays { errNo: number, errMsg: string, logId: string | undefined }

/** The problem a (final) err_no becomes; `upstream` carries Douyin's own code, message and log_id. */
export function problemFor ({ errNo, errMsg, logId }: UpstreamSays): HttpProblem {
  const upstream = { name: 'douyin', code: errNo, message: errMsg, ...(logId ? { requestId: logId } : {}) }
  switch (errNo) {
    case ERR.INVALID_PARAM:
    case ERR.START_TOO_OLD:
    case ERR.PAGE_TOO_LARGE:
      return new HttpProblem('VALIDATION_FAILED', {
        detail: errNo === ERR.START_TOO_OLD
          ? 'Douyin refused the publish window: its start is older than 90 days'
          : errNo === ERR.PAGE_TOO_LARGE
            ? 'Douyin refused the page size: at most 10000'
            : `Douyin refused the parameters: ${errMsg}`,
        upstream
      })
    case ERR.TOKEN_EXPIRED:
    case ERR.TOKEN_INVALID:
      return new HttpProblem('UPSTREAM_AUTH', { detail: 'Douyin refused our access token, also after a refresh', upstream })
    case ERR.NO_CAPABILITY:
      return new HttpProblem('UPSTREAM_CAPABILITY_MISSING', {
        detail: 'The Douyin app lacks the taskbox data capability: request the "数据分析" (data analysis) permission for the mini app in the service provider platform (服务商平台 - 设置 - 权限设置)',
        upstream
      })
    case ERR.QUOTA_USED_UP:
      return new HttpProblem('UPSTREAM_QUOTA_EXHAUSTED', { detail: 'The Douyin app has used up its quota for this API; calls stop until it resets', upstream, retryAfter: QUOTA_PAUSE_S })
    case ERR.TOO_FREQUENT:
      return new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: 'Douyin answered "more than 10 requests per second" and there was no time left to retry', upstream, retryAfter: 1 })
    case ERR.RISK_CONTROL:
      return new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: 'Douyin risk control refused the call; slowing down', upstream, retryAfter: RISK_PAUSE_S })
    case ERR.NETWORK:
      return new HttpProblem('UPSTREAM_UNAVAILABLE', { detail: 'Douyin reported a network error, also after retries', upstream, retryAfter: 1 })
    case ERR.INTERNAL:
      return new HttpProblem('UPSTREAM_ERROR', { detail: 'Douyin reported an internal error, also after retries', upstream })
    default:
      return new HttpProblem('UPSTREAM_ERROR', { detail: `Douyin answered err_no ${errNo}`, upstream })
  }
}

/** After 28003017 (quota used up) this instance stops calling for this long. */
export const QUOTA_PAUSE_S = 60
/** After 28001052 (risk control) no call for this long. */
export const RISK_PAUSE_S = 5
