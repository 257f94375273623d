/** What a signed-in person may do: `viewer` reads, `operator` also pauses/resumes/triggers, `admin` also edits schedules and tokens. */
export type Role = 'viewer' | 'operator' | 'admin';

/** Every role, weakest first. */
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

/** True when `role` may do what `needed` may. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** True for one of {@link ROLES}. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who is asking: from a token, or from the host's own authentication hook. */
export interface Principal {
  /** Stable id (a token's id, or the host's user id): audit rows and CSRF tokens are bound to it. */
  id: string;
  /** What the audit log shows. */
  name: string;
  role: Role;
  /** How they authenticated. */
  via: 'token' | 'host';
}
