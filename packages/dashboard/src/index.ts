export { PREFIX, DashboardHttpError, AccessStoreError } from './errors.js';
export { type Role, ROLES, roleAllows, isRole, type Principal } from './roles.js';
export {
  type TokenRecord,
  type TokenCheck,
  type AuditEntry,
  type AuditPage,
  type AccessStore,
  createStoreAccess,
} from './access-store.js';
export { CSRF_HEADER, SESSION_COOKIE, type AuthenticateHook } from './auth.js';
export { createDashboard, DEFAULT_AUDIT_RETENTION_MS, toHttpError, type Dashboard, type DashboardOptions } from './dashboard.js';
export { startDashboardServer, type DashboardServer } from './server.js';
export { dashboardPlugin, type FastifyLike } from './fastify.js';
export { DEFAULT_LIVE_POLL_MS } from './live.js';
export { SECURITY_HEADERS } from './http.js';
