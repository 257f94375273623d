/**
 * JSON schemas of the HTTP API. Ajv runs without type coercion and rejects unknown fields,
 * so `"failMinutes": "15"` or a misspelt field is a 400 naming the field, never a guess.
 */

/** A positive integer id in a path segment (validated as text: coercion is off). */
const id = { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } as const;

/** Body member for a display name. */
const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' } as const;

/** An ISO-8601 instant with its offset. */
const instant = { type: 'string', format: 'date-time' } as const;

/** `{ id }` path parameters. */
export const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id } } as const;

/** `{ id, memberId }` path parameters. */
export const attendanceParams = {
  type: 'object',
  required: ['id', 'memberId'],
  additionalProperties: false,
  properties: { id, memberId: id },
} as const;

/** `{ code }` path parameters (a job code). */
export const codeParams = {
  type: 'object',
  required: ['code'],
  additionalProperties: false,
  properties: { code: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** Params of /jobs/:code/schedules/:key (the key's characters are checked by core, with a message naming them). */
export const scheduleParams = {
  type: 'object',
  required: ['code', 'key'],
  additionalProperties: false,
  properties: { code: { type: 'string', minLength: 1, maxLength: 128 }, key: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** Query of GET /jobs/:code/schedules. */
export const schedulesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { cursor: { type: 'string', minLength: 1 }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$|^1000$' } },
} as const;

/** Body of PUT /jobs/:code/schedules/:key: exactly one of cron, every, at. */
export const scheduleBody = {
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['cron'] }, { required: ['every'] }, { required: ['at'] }],
  properties: {
    cron: { type: 'string', minLength: 1, maxLength: 200 },
    every: { type: 'string', minLength: 1, maxLength: 50 },
    at: instant,
    timezone: { type: 'string', minLength: 1, maxLength: 100 },
    payload: {},
    enabled: { type: 'boolean' },
    description: { type: 'string', maxLength: 500 },
  },
} as const;

/** Body of POST /groups and POST /members. */
export const nameBody = { type: 'object', required: ['name'], additionalProperties: false, properties: { name } } as const;

/** Body of POST /groups/:id/members. */
export const membershipBody = {
  type: 'object',
  required: ['memberId'],
  additionalProperties: false,
  properties: { memberId: { type: 'integer', minimum: 1 }, joinedAt: instant },
} as const;

/** Body of POST /events. */
export const eventBody = {
  type: 'object',
  required: ['groupId', 'title', 'startsAt', 'failMinutes'],
  additionalProperties: false,
  properties: {
    groupId: { type: 'integer', minimum: 1 },
    title: name,
    startsAt: instant,
    failMinutes: { type: 'integer', minimum: 0, maximum: 10_080 },
  },
} as const;

/** Body of POST /events/:id/check-ins. */
export const checkInBody = {
  type: 'object',
  required: ['memberId'],
  additionalProperties: false,
  properties: { memberId: { type: 'integer', minimum: 1 }, at: instant },
} as const;

/** Body of PUT /events/:id/attendance/:memberId (admin override). */
export const overrideBody = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string', enum: ['PRESENT', 'LATE'] }, checkedAt: instant },
} as const;

/** Query of GET /events. */
export const eventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { groupId: id, open: { type: 'string', enum: ['true', 'false'] } },
} as const;

/** Query of GET /jobs/:code/runs. */
export const runsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$' } },
} as const;
