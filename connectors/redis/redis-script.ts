/**
 * The one Lua script a write runs: every effect of the write's transactions
 * plus this sink's checkpoint, in one atomic step (Redis runs a script with
 * nothing interleaved, and replicates and persists its effects together).
 *
 * KEYS[1] is the checkpoint key (end LSN of the last transaction applied);
 * ARGV[1] the new checkpoint ('' when the write completes no transaction),
 * ARGV[2] the fence expiry in seconds, ARGV[3] DEL or UNLINK, then operations,
 * each tagged with its transaction's commit LSN:
 *
 *   D <commit> <key#>                                 delete a key
 *   S <commit> <key#> <fence#> <fence> <value> <ttl>  fenced SET (ttl 0: none)
 *   X <commit> <key#> <fence#> <fence>                fenced delete, leaves the fence
 *   P <commit> <channel> <message>                    PUBLISH
 *   A <commit> <key#> <maxlen> <op> <lsn> <value>     XADD key MAXLEN ~ maxlen * op … lsn … value …
 *
 * LSNs are fixed-width hex, so string comparison is LSN order (Lua numbers
 * are doubles and cannot hold 64 bits). An operation whose commit LSN is below
 * the stored checkpoint belongs to a transaction already applied — a write
 * whose reply was lost and is retried, or a replay after a restart — and is
 * skipped. A fence is `<commit><lsn>` of the last change applied to a key: a
 * fenced write applies only when it is newer, so no replay puts an older row back.
 *
 * The checkpoint is SET on every run, even unchanged: a retried script whose
 * operations are all skipped still replicates a write, so a WAIT after it
 * (wait.replicas) covers everything before it on that master.
 */
import { formatLsn, type Lsn } from '../../src/lsn.ts';

export const APPLY_SCRIPT = `
local stored = redis.call('GET', KEYS[1]) or ''
local fttl = tonumber(ARGV[2])
local delcmd = ARGV[3]
local applied = 0
local function advance(fk, fv)
  local cur = redis.call('GET', fk)
  if cur and cur >= fv then return false end
  if fttl > 0 then redis.call('SET', fk, fv, 'EX', fttl) else redis.call('SET', fk, fv) end
  return true
end
local i = 4
while i <= #ARGV do
  local op = ARGV[i]
  local live = ARGV[i + 1] >= stored
  if op == 'D' then
    if live then redis.call(delcmd, KEYS[tonumber(ARGV[i + 2])]); applied = applied + 1 end
    i = i + 3
  elseif op == 'S' then
    if live and advance(KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4]) then
      local ttl = tonumber(ARGV[i + 6])
      if ttl > 0 then
        redis.call('SET', KEYS[tonumber(ARGV[i + 2])], ARGV[i + 5], 'EX', ttl)
      else
        redis.call('SET', KEYS[tonumber(ARGV[i + 2])], ARGV[i + 5])
      end
      applied = applied + 1
    end
    i = i + 7
  elseif op == 'X' then
    if live and advance(KEYS[tonumber(ARGV[i + 3])], ARGV[i + 4]) then
      redis.call(delcmd, KEYS[tonumber(ARGV[i + 2])])
      applied = applied + 1
    end
    i = i + 5
  elseif op == 'P' then
    if live then redis.call('PUBLISH', ARGV[i + 2], ARGV[i + 3]); applied = applied + 1 end
    i = i + 4
  elseif op == 'A' then
    if live then
      redis.call('XADD', KEYS[tonumber(ARGV[i + 2])], 'MAXLEN', '~', ARGV[i + 3], '*', 'op', ARGV[i + 4], 'lsn', ARGV[i + 5], 'value', ARGV[i + 6])
      applied = applied + 1
    end
    i = i + 7
  else
    return redis.error_reply('slotline: unknown operation ' .. tostring(op))
  end
end
local checkpoint = stored
if ARGV[1] > stored then checkpoint = ARGV[1] end
if checkpoint ~= '' then redis.call('SET', KEYS[1], checkpoint) end
return applied
`;

/** An LSN as 16 lowercase hex digits: string order is LSN order. */
export function lsnHex(lsn: Lsn): string {
  return lsn.toString(16).padStart(16, '0');
}

/** Reads a stored checkpoint back; null when there is none. */
export function parseCheckpoint(text: string | null): Lsn | null {
  if (text === null || text === '') return null;
  if (!/^[0-9a-f]{16}$/.test(text)) throw new Error(`checkpoint value ${JSON.stringify(text)} is not 16 hex digits`);
  return BigInt(`0x${text}`);
}

export function describeCheckpoint(lsn: Lsn | null): string {
  return lsn === null ? 'none' : formatLsn(lsn);
}
