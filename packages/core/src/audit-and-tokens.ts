/**
 * The audit-log and access-token methods of a store class, forwarded once: a store keeps them in
 * an object of their own (its SQL or Redis access) and extends this class instead of forwarding
 * the seven methods by hand.
 */
import type { Store } from './store.js';
import type { AccessTokenRecord, AuditInput, AuditPage, AuditQuery, AuditRecord } from './store-access.js';

/** The `Store` contract's audit-log and access-token methods. */
export type AuditAndTokenMethods = Pick<
  Store,
  'appendAudit' | 'listAudit' | 'pruneAudit' | 'addAccessToken' | 'getAccessToken' | 'listAccessTokens' | 'removeAccessToken'
>;

/** A store class whose audit-log and access-token methods are those of its `access`. */
export abstract class AuditAndTokenForwarding implements AuditAndTokenMethods {
  /** What answers the audit-log and access-token methods. */
  protected abstract readonly access: AuditAndTokenMethods;

  appendAudit(entry: AuditInput): Promise<AuditRecord> {
    return this.access.appendAudit(entry);
  }

  listAudit(query?: AuditQuery): Promise<AuditPage> {
    return this.access.listAudit(query);
  }

  pruneAudit(options: { olderThan: Date; batchSize?: number }): Promise<number> {
    return this.access.pruneAudit(options);
  }

  addAccessToken(token: AccessTokenRecord): Promise<AccessTokenRecord> {
    return this.access.addAccessToken(token);
  }

  getAccessToken(id: string): Promise<AccessTokenRecord | null> {
    return this.access.getAccessToken(id);
  }

  listAccessTokens(): Promise<AccessTokenRecord[]> {
    return this.access.listAccessTokens();
  }

  removeAccessToken(id: string): Promise<boolean> {
    return this.access.removeAccessToken(id);
  }
}
