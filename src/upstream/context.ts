import type { Priority } from './limiter/types.js'

/** What an upstream call needs from the request that caused it, and nothing else of it. */
export interface CallContext {
  /** Sent upstream as x-request-id, so one id follows a call end to end. */
  requestId: string
  /** Epoch ms by which the whole call, queueing and retries included, must be over. */
  deadline: number
  /** `background`: cache refreshes and page walks, which yield to interactive requests upstream. */
  priority?: Priority
}
