import { KEYS_ARE_HASHES } from './scripts/prelude.js';

/**
 * `claimOverdue` on Redis. A job's states live in one hash (`{<code>}:states`, one Cluster
 * slot), so each step is one script per job with that hash as its only key (KEYS[1]): writing a
 * job's windows, and the compare-and-set that hands out its overdue states. Between them the
 * candidates are read (HVALS) and ordered oldest due first across jobs; the claim script checks
 * every condition again, so a state another caller alerted meanwhile, or one a success just
 * cleared, is not handed out. Each overdue episode goes to exactly one caller; the windows and the
 * claims of different jobs are not one atomic step (each schedule's are).
 */

/**
 * KEYS the states hashes of jobs of one shard; ARGV[1] JSON, one list per key in KEYS order,
 * [[{ key, ms }]]: sets each existing state's window (null clears it) where it differs. One call
 * per shard, not one per job: a daemon sends every window it holds every `overdueIntervalMs`. Every
 * key is checked to be a hash before anything is written, so a foreign one fails the call whole.
 */
export const OVERDUE_WINDOWS_SCRIPT = `${KEYS_ARE_HASHES}local lists = cjson.decode(ARGV[1])
for i, k in ipairs(KEYS) do
  for _, w in ipairs(lists[i]) do
    local raw = redis.call('HGET', k, w.key)
    if raw then
      local s = cjson.decode(raw)
      local current = s.expectSuccessWithinMs
      if current == nil then current = cjson.null end
      if current ~= w.ms then
        s.expectSuccessWithinMs = w.ms
        redis.call('HSET', k, w.key, cjson.encode(s))
      end
    end
  end
end
return 1`;

/**
 * KEYS[1] a job's states hash; ARGV[1] now (epoch ms); ARGV[2] JSON [key]: each state still overdue
 * (a window, not alerted, coalesce(lastSucceededAt, createdAt) + window <= now) gets
 * overdueAlertedAt = now and is returned (its JSON), in the order given.
 */
export const OVERDUE_CLAIM_SCRIPT = `
local now = tonumber(ARGV[1])
local keys = cjson.decode(ARGV[2])
local out = {}
for _, key in ipairs(keys) do
  local raw = redis.call('HGET', KEYS[1], key)
  if raw then
    local s = cjson.decode(raw)
    local w = s.expectSuccessWithinMs
    local alerted = s.overdueAlertedAt
    if type(w) == 'number' and (alerted == nil or alerted == cjson.null) then
      local base = s.lastSucceededAt
      if type(base) ~= 'number' then base = s.createdAt end
      if base + w <= now then
        s.overdueAlertedAt = now
        local encoded = cjson.encode(s)
        redis.call('HSET', KEYS[1], key, encoded)
        out[#out + 1] = encoded
      end
    end
  end
end
return out`;
