import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dashboard } from './dashboard.js';

/** The part of a Fastify instance the plugin uses (no Fastify dependency here). */
export interface FastifyLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    handler: (req: unknown, payload: unknown, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  all(path: string, handler: (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => void): void;
}

/**
 * A Fastify plugin serving the dashboard at its `basePath`: `app.register(dashboardPlugin(dashboard))`.
 * Register it unwrapped (no fastify-plugin) so its "leave the body unread" parser stays in its own scope.
 */
export function dashboardPlugin(dashboard: Dashboard): (fastify: FastifyLike) => Promise<void> {
  return async (fastify) => {
    // The dashboard reads (and size-limits) bodies itself: Fastify must leave the stream alone.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handler = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => {
      reply.hijack();
      void dashboard.handle(request.raw, reply.raw);
    };
    fastify.all(dashboard.basePath || '/', handler);
    fastify.all(`${dashboard.basePath}/*`, handler);
  };
}
