//! The Lua scripts Kindred runs on Redis, each on one room's keys (one slot on a
//! Cluster), so every check and the write it guards happen at one instant. `store`
//! calls them; what each answers is read there.

/// Put Redis's own time (ms) into an entry sent without one (`{"origin":…}` becomes
/// `{"ts":NOW,"origin":…}`): every entry's time is Redis's, never the appending
/// instance's clock. `TIME` in a script that then writes is allowed since Redis 7,
/// which replicates a script's effects, not the script.
pub(super) const STAMP: &str = r#"
local t = redis.call('TIME')
local ts = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
local e = '{"ts":' .. ts .. ',' .. string.sub(ARGV[2], 2)
"#;

/// The Redis process that runs a script, read from `INFO server` (a few µs of Redis's
/// time on every call: it formats the whole section, and the script scans it).
pub(super) const RUN_FROM_INFO: &str = r"
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
";

/// Append an entry if the room exists in the caller's epoch, stamped with Redis's
/// time; publish it, and answer its index and that time, so the caller folds its own
/// entry from the answer (`submit`) without waiting for the published copy. The head
/// is checked before the first write, so a refusal writes nothing; the room's epoch,
/// `run` and head are read in one call.
///
/// Two checks keep the log exact (KEYS[4] and ARGV[5..6]): a repeat of an append
/// (the cluster client resends a script after a dropped connection) finds the mark
/// its first run left (`kindred:{room}:appended:ORIGIN:ID`, in the room's slot, kept
/// for `APPENDED_MARK` in `store`) and gets that run's index, writing nothing; and a head below
/// the index the caller has folded means Redis lost writes (`behind`), so nothing is
/// numbered again with an index some replica already holds.
///
/// An append that reaches Redis after ARGV[8] (Redis's time, ms) writes nothing and
/// answers `late`: its sender has been answered `internal` by then (`submit`), so a
/// script that waited in a stopped Redis's socket, or that a client resent after a
/// dropped connection, never lands after that answer. A repeat of a run that was in
/// time still gets that run's index.
///
/// And before both, the Redis process (its `run_id`, `run` here, against KEYS[1]'s
/// `run`; set before this text by [`RUN_FROM_INFO`] or, on one Redis, written into the
/// script loaded into that process alone, `store::Bound`): a room whose
/// last entry was written by another Redis process (a restart, a failover, a backup
/// restored, a slot moved) may have lost entries that some replica folded and that no
/// instance can always tell apart (one whose replica lagged would number its next
/// entry with an index another already folded), so the room goes on under a new epoch
/// (ARGV[7]) from what this Redis holds, announced as `REEPOCH` does; nothing is
/// appended and the caller reloads.
pub(super) const APPEND: &str = r"
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'run', 'head')
local epoch, ran, head = meta[1], meta[2], meta[3]
if not epoch then return {'missing', '0'} end
if ran and ran ~= run then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[7], 'run', run)
  redis.call(ARGV[4], KEYS[3], 'R' .. ARGV[7])
  return {'epoch', ARGV[7]}
end
if epoch ~= ARGV[1] then return {'epoch', epoch} end
local done = redis.call('GET', KEYS[4])
if done then return {'ok', done} end
if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[8]) then return {'late', '0'} end
if tonumber(head) < tonumber(ARGV[5]) then return {'behind', head} end
if not ran then redis.call('HSET', KEYS[1], 'run', run) end
local idx = redis.call('HINCRBY', KEYS[1], 'head', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], idx .. '-1', 'e', e)
redis.call('SET', KEYS[4], idx, 'PX', ARGV[6])
redis.call(ARGV[4], KEYS[3], 'L' .. epoch .. ' ' .. idx .. ' ' .. e)
return {'ok', tostring(idx), ts}
";

/// The room's epoch and head with a batch of its log from ARGV[1] on, read at one
/// instant, so entries are never folded under an epoch they do not belong to.
pub(super) const READ: &str = r"
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'head')
return {meta[1], meta[2], redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])}
";

/// The room goes on under a new epoch (ARGV[2]) from what Redis holds, if it is still
/// in the caller's (ARGV[1]): its log went backwards, or holds an entry no instance
/// can fold, and then ARGV[4..5] is a snapshot past that entry. Every instance is told
/// on the room's channel (`R`), reloads and asks its members to resume.
pub(super) const REEPOCH: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'run', run)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'index', ARGV[4], 'image', ARGV[5]) end
redis.call(ARGV[3], KEYS[4], 'R' .. ARGV[2])
return 1
";

/// Create a room (or give it back to a Redis that lost it) unless it exists: a log
/// whose first entry (index 1) is its creation, in a new epoch, with no snapshot yet.
pub(super) const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
redis.call('HSET', KEYS[1], 'head', 1, 'epoch', ARGV[1], 'run', run)
redis.call('XADD', KEYS[2], '1-1', 'e', e)
return 1
";

/// Take or keep the lease on each room's ticks named in KEYS (see `ticker`): for each,
/// 1 if `ARGV[1]` holds it for the next `ARGV[2]` ms, else 0. One call for many rooms
/// on one Redis (a script call costs Redis far more than the few commands in it); on
/// a Cluster, one room per call, as its keys live in its own slot.
pub(super) const LEASE: &str = r"
local held = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    held[i] = 1
  elseif holder then
    held[i] = 0
  else
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    held[i] = 1
  end
end
return held
";

/// Store a snapshot unless a newer one is there (or Redis lost the entries it folds);
/// at a close, drop the log before it.
pub(super) const SNAPSHOT: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'head')) < tonumber(ARGV[2]) then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[3], 'index') or '-1')
if cur >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[3], 'index', ARGV[2], 'image', ARGV[3])
if ARGV[4] == '1' then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[2] .. '-1') end
return 1
";
