import { Type } from '@sinclair/typebox'
import { PROBLEMS, type ProblemCode } from '../errors.js'
import { ProblemSchema } from './problem.js'

const problemContent = { 'application/problem+json': { schema: Type.Ref(ProblemSchema) } }

/**
 * The problem answers of a route, keyed by status, each naming the codes it can carry. Every
 * route declares its error responses through this, so the Problem schema is written once.
 */
export function problemResponses (...codes: ProblemCode[]) {
  const byStatus = new Map<number, ProblemCode[]>()
  for (const code of ['VALIDATION_FAILED', 'INTERNAL_ERROR', ...codes] as ProblemCode[]) {
    const status = PROBLEMS[code][0]
    const list = byStatus.get(status) ?? []
    if (!list.includes(code)) list.push(code)
    byStatus.set(status, list)
  }
  const out: Record<number, { description: string, content: typeof problemContent }> = {}
  for (const [status, list] of byStatus) {
    out[status] = {
      description: list.map(code => `\`${code}\`: ${PROBLEMS[code][1]}`).join('; '),
      content: problemContent
    }
  }
  return out
}
