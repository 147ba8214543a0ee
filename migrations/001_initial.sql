-- The embedded event store (DESIGN §5, §7). Applied once, in a transaction, by src/ledger/sqlite/migrations.ts.

-- One row per integrated entry. `position` is the global, gapless, 0-based order and the Merkle leaf index;
-- `entry_json` holds the exact RFC 8785 bytes of the signed entry (what the leaf hash and the signature cover);
-- the other columns are copies of entry fields, kept only so that reads can filter without parsing JSON.
CREATE TABLE entries (
  position    INTEGER PRIMARY KEY CHECK (position >= 0),
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL CHECK (revision >= 0),
  id          TEXT    NOT NULL UNIQUE,
  type        TEXT    NOT NULL,
  tenant      TEXT    NOT NULL,
  command_id  TEXT    NOT NULL,
  recorded_at TEXT    NOT NULL,
  entry_json  TEXT    NOT NULL,
  leaf_hash   BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
  UNIQUE (stream, revision)
) STRICT;

-- Tenant-filtered reads of the global log (auditor, compliance) walk one tenant in position order.
CREATE INDEX entries_tenant_position ON entries (tenant, position);

-- Opening a store rebuilds the Merkle tree from every leaf hash, in position order. This narrow index lets that
-- scan read ~50 bytes a row instead of the whole entry (1M entries: tens of MB instead of over a GB); positions
-- only grow, so it is appended to, never rebalanced in the middle.
CREATE INDEX entries_position_leaf_hash ON entries (position, leaf_hash);

-- Defence in depth: the store itself refuses a gap, a skipped revision, an update or a delete, whatever code
-- writes to it. (The offline verifier still detects edits made behind SQLite's back.) Both lookups are
-- O(log n) on the primary key and on the (stream, revision) index.
CREATE TRIGGER entries_positions_are_gapless BEFORE INSERT ON entries
WHEN NEW.position IS NOT (SELECT coalesce(max(position), -1) + 1 FROM entries)
BEGIN SELECT RAISE(ABORT, 'entries: position is not the next global position'); END;

CREATE TRIGGER entries_revisions_are_consecutive BEFORE INSERT ON entries
WHEN NEW.revision IS NOT (SELECT coalesce(max(revision), -1) + 1 FROM entries WHERE stream = NEW.stream)
BEGIN SELECT RAISE(ABORT, 'entries: revision is not the next revision of its stream'); END;

CREATE TRIGGER entries_are_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;

CREATE TRIGGER entries_are_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;

-- Idempotency: the first append of each (tenant, client command id). Its entries are contiguous:
-- positions first_position .. first_position + entry_count - 1. Keyed by position, not by (tenant, command_id):
-- client command ids are random, and a B-tree keyed by them dirties a random page per append, which halved
-- durable commit throughput. The writing store finds a command id through an in-memory hash index rebuilt from
-- this narrow table at open (every hit confirmed against the row); offline readers scan it.
CREATE TABLE commands (
  first_position INTEGER PRIMARY KEY CHECK (first_position >= 0),
  entry_count    INTEGER NOT NULL CHECK (entry_count >= 1),
  tenant         TEXT    NOT NULL,
  command_id     TEXT    NOT NULL
) STRICT;

CREATE TRIGGER commands_are_append_only_update BEFORE UPDATE ON commands
BEGIN SELECT RAISE(ABORT, 'commands are append-only'); END;

CREATE TRIGGER commands_are_append_only_delete BEFORE DELETE ON commands
BEGIN SELECT RAISE(ABORT, 'commands are append-only'); END;

-- Every signed checkpoint the log issued (DESIGN §5: "issued every N entries or T seconds and kept").
CREATE TABLE checkpoints (
  size      INTEGER PRIMARY KEY CHECK (size >= 0),
  root_hash TEXT    NOT NULL,
  note      TEXT    NOT NULL,
  issued_at TEXT    NOT NULL,
  kid       TEXT    NOT NULL
) STRICT;

CREATE TRIGGER checkpoints_are_kept_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are kept unchanged'); END;

CREATE TRIGGER checkpoints_are_kept_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are kept unchanged'); END;
