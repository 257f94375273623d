import {
  AttendanceError,
  CheckInTooLateError,
  EventClosedError,
  InvalidAttendanceInputError,
  NotFoundError,
  NotInGroupError,
} from '@tickwork/attendance';
import { EXIT_CODES, exitCodeOf, UnknownJobError } from '@tickwork/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PREFIX } from '../errors.js';

/** The JSON body of every error response. */
export interface Problem {
  statusCode: number;
  error: string;
  message: string;
  /** The offending field, e.g. `body.failMinutes`, for validation errors. */
  field?: string;
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns a thrown error into a status code and a {@link Problem}; domain errors keep their message. */
export function toProblem(error: unknown): Problem {
  const e = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const issue = e.validation[0] as AjvIssue;
    const field = fieldOf(e.validationContext ?? 'body', issue);
    const detail =
      issue.keyword === 'required'
        ? 'is required'
        : issue.keyword === 'additionalProperties'
          ? 'is not a known field'
          : (issue.message ?? 'is invalid');
    return { statusCode: 400, error: 'Bad Request', field, message: `${PREFIX} ${field} ${detail}` };
  }
  if (error instanceof NotFoundError || error instanceof UnknownJobError) return problem(404, 'Not Found', error.message);
  // Tickwork's bad input and unreachable store by the exit code they carry (any installed copy of core), not their class.
  if (error instanceof InvalidAttendanceInputError || exitCodeOf(error) === EXIT_CODES.usage) {
    return problem(400, 'Bad Request', e.message);
  }
  if (
    error instanceof EventClosedError ||
    error instanceof CheckInTooLateError ||
    error instanceof NotInGroupError ||
    error instanceof AttendanceError
  ) {
    return problem(409, 'Conflict', error.message);
  }
  if (exitCodeOf(error) === EXIT_CODES.storeUnavailable) return problem(503, 'Service Unavailable', e.message);
  // Fastify's own 4xx (malformed JSON, wrong content type, body too large) keep their status.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return problem(e.statusCode, e.statusCode === 415 ? 'Unsupported Media Type' : 'Bad Request', `${PREFIX} ${e.message}`);
  }
  return problem(500, 'Internal Server Error', `${PREFIX} internal error; see the server log`);
}

/** Fastify error handler: logs 5xx, answers with a {@link Problem}. */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toProblem(error);
  if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
  return reply.status(body.statusCode).send(body);
}

function fieldOf(context: string, issue: AjvIssue): string {
  const path = issue.instancePath.split('/').filter(Boolean);
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  return [context, ...path].join('.');
}

function problem(statusCode: number, error: string, message: string): Problem {
  return { statusCode, error, message };
}
