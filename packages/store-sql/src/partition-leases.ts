/**
 * Partition leases on both dialects: one transaction reads the partition rows and members,
 * applies core's one rule ({@link planPartitionLease}) and writes back what it changed. The
 * transaction serialises callers (PostgreSQL: an exclusive lock of the member table, which
 * readers do not wait for; SQLite: `BEGIN IMMEDIATE`), so each partition has one owner.
 */
import {
  type CheckedPartitionLease,
  PARTITION_COUNT,
  type PartitionLeases,
  type PartitionSlot,
  planPartitionLease,
  planPartitionRelease,
} from '@tickwork/core/store';
import { StoreSchemaError } from '@tickwork/core';
import { PREFIX } from './errors.js';

/** Runs statements inside the caller's transaction. */
export interface PartitionTx {
  all<T>(sql: string, params: readonly unknown[]): Promise<T[]>;
}

/** The dialect's names and statements. */
export interface PartitionTables {
  partition: string;
  member: string;
  /** A statement that serialises leasers within the transaction, or null (SQLite's transaction does). */
  lock: string | null;
  /** `$n` or `?n`. */
  param(n: number): string;
  /** A subquery of the texts of a JSON list given as parameter `n`, as column `value`. */
  texts(n: number): string;
  /** The rows `[partition, runnerId, expiresAt, token]` of a JSON list given as parameter `n`, as columns p, r, e, t. */
  rows(n: number): string;
}

interface SlotRow {
  part: number | string;
  runner_id: string | null;
  expires_at: number | string;
  token: number | string;
}

async function readSlots(tx: PartitionTx, t: PartitionTables, operation: string): Promise<PartitionSlot[]> {
  const rows = await tx.all<SlotRow>(`SELECT part, runner_id, expires_at, token FROM ${t.partition} ORDER BY part`, []);
  if (rows.length !== PARTITION_COUNT || rows.some((row, i) => Number(row.part) !== i)) {
    throw new StoreSchemaError(
      `${PREFIX} ${operation}: the partition table holds ${rows.length} rows, not partitions 0 to ${PARTITION_COUNT - 1}`,
    );
  }
  return rows.map((row) => ({ owner: row.runner_id, expiresAt: Number(row.expires_at), token: Number(row.token) }));
}

/** `leasePartitions` inside a transaction. */
export async function leasePartitionsInTx(tx: PartitionTx, t: PartitionTables, request: CheckedPartitionLease): Promise<PartitionLeases> {
  if (t.lock) await tx.all(t.lock, []);
  const slots = await readSlots(tx, t, 'leasePartitions');
  const members = new Map<string, number>();
  for (const row of await tx.all<{ runner_id: string; expires_at: number | string }>(`SELECT runner_id, expires_at FROM ${t.member}`, [])) {
    members.set(row.runner_id, Number(row.expires_at));
  }
  const plan = planPartitionLease(slots, members, request);
  if (plan.removed.length > 0) {
    await tx.all(`DELETE FROM ${t.member} WHERE runner_id IN (${t.texts(1)})`, [JSON.stringify(plan.removed)]);
  }
  await tx.all(
    `INSERT INTO ${t.member} (runner_id, expires_at) VALUES (${t.param(1)}, ${t.param(2)})
     ON CONFLICT (runner_id) DO UPDATE SET expires_at = excluded.expires_at`,
    [request.runnerId, request.now + request.ttlMs],
  );
  if (plan.changed.length > 0) {
    const changed = plan.changed.map((p) => {
      const slot = slots[p] as PartitionSlot;
      return [p, slot.owner, slot.expiresAt, slot.token];
    });
    await tx.all(
      `UPDATE ${t.partition} SET runner_id = j.r, expires_at = j.e, token = j.t FROM (${t.rows(1)}) AS j WHERE ${t.partition}.part = j.p`,
      [JSON.stringify(changed)],
    );
  }
  return plan.leases;
}

/** `releasePartitions` inside a transaction: answers how many partitions the runner held. */
export async function releasePartitionsInTx(tx: PartitionTx, t: PartitionTables, runnerId: string): Promise<number> {
  if (t.lock) await tx.all(t.lock, []);
  const slots = await readSlots(tx, t, 'releasePartitions');
  const released = planPartitionRelease(slots, new Map(), runnerId);
  await tx.all(`DELETE FROM ${t.member} WHERE runner_id = ${t.param(1)}`, [runnerId]);
  if (released.length > 0) {
    await tx.all(`UPDATE ${t.partition} SET runner_id = NULL, expires_at = 0 WHERE runner_id = ${t.param(1)}`, [runnerId]);
  }
  return released.length;
}

/** The PostgreSQL statements for `schema` (quoted). */
export function pgPartitionTables(schema: string): PartitionTables {
  const member = `${schema}.tickwork_partition_member`;
  return {
    partition: `${schema}.tickwork_partition`,
    member,
    lock: `LOCK TABLE ${member} IN EXCLUSIVE MODE`,
    param: (n) => `$${n}`,
    texts: (n) => `SELECT json_array_elements_text($${n}::json)`,
    rows: (n) =>
      `SELECT (x->>0)::int AS p, x->>1 AS r, (x->>2)::bigint AS e, (x->>3)::bigint AS t FROM json_array_elements($${n}::json) AS x`,
  };
}

/** The SQLite statements. */
export const SQLITE_PARTITION_TABLES: PartitionTables = {
  partition: 'tickwork_partition',
  member: 'tickwork_partition_member',
  lock: null,
  param: (n) => `?${n}`,
  texts: (n) => `SELECT value FROM json_each(?${n})`,
  rows: (n) =>
    `SELECT json_extract(value, '$[0]') AS p, json_extract(value, '$[1]') AS r, json_extract(value, '$[2]') AS e, json_extract(value, '$[3]') AS t FROM json_each(?${n})`,
};
