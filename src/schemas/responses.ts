import { Type } from '@sinclair/typebox'
import { PROBLEMS, problemType, type ProblemCode } from '../errors.js'
import { ProblemSchema } from './problem.js'

/** What a caller sees for `code`: one example per code, so each status shows its own. */
function example (code: ProblemCode) {
  const [status, title] = PROBLEMS[code]
  return { summary: code, value: { type: problemType(code), title, status, detail: title, code, requestId: 'req-1f0c2b9a' } }
}

/**
 * The problem answers of a route, keyed by status, each naming the codes it can carry. Every
 * route declares its error responses through this, so the Problem schema is written once.
 */
export function problemResponses (...codes: ProblemCode[]) {
  const byStatus = new Map<number, ProblemCode[]>()
  for (const code of ['VALIDATION_FAILED', 'UNAUTHORIZED', 'INTERNAL_ERROR', ...codes] as ProblemCode[]) {
    const status = PROBLEMS[code][0]
    const list = byStatus.get(status) ?? []
    if (!list.includes(code)) list.push(code)
    byStatus.set(status, list)
  }
  const out: Record<number, object> = {}
  for (const [status, list] of byStatus) {
    out[status] = {
      description: list.map(code => `\`${code}\`: ${PROBLEMS[code][1]}`).join('; '),
      content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema), examples: Object.fromEntries(list.map(code => [code, example(code)])) } }
    }
  }
  return out
}
