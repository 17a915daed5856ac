import { Type, type Static } from '@sinclair/typebox'

/** RFC 9457 problem details: the one error body of every route. */
export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'A URI reference that names the kind of problem', examples: ['urn:metrics-bff:problem:validation-failed'] }),
  title: Type.String({ description: 'Short, stable summary of the kind of problem' }),
  status: Type.Integer({ description: 'The HTTP status code of this answer', examples: [400] }),
  detail: Type.String({ description: 'What went wrong this time, for a person' }),
  code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$', description: 'Stable UPPER_SNAKE code to switch on', examples: ['VALIDATION_FAILED'] }),
  requestId: Type.String({ description: 'The x-request-id of the request; quote it when reporting' }),
  errors: Type.Optional(Type.Array(Type.Object({
    in: Type.String({ description: 'Where the field is: path, querystring, headers or body' }),
    field: Type.String({ description: 'JSON pointer or name of the failing field' }),
    message: Type.String()
  }), { description: 'For validation problems: every failing field' })),
  upstream: Type.Optional(Type.Object({
    name: Type.String({ description: 'Which upstream answered: aitoearn or douyin' }),
    code: Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: "The upstream's own error code" })),
    message: Type.Optional(Type.String({ description: "The upstream's own message" })),
    requestId: Type.Optional(Type.String({ description: "The upstream's request or log id" })),
    category: Type.Optional(Type.String({ description: 'AiToEarn: the class of a platform error (rate_limit, auth, not_found, ...)' })),
    platformCode: Type.Optional(Type.String({ description: "AiToEarn: the platform's own error code behind it" }))
  }, { description: 'When an upstream caused the problem: what it said' }))
}, { $id: 'Problem', title: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' })

export type Problem = Static<typeof ProblemSchema>
