// Package eventlog is the append-only log of statesrv: every fact the
// product knows is an Event here, and every view is derived from it.
//
// # Envelope
//
// An event has a gap-free seq (1, 2, 3, …) assigned by the single appender,
// an id (UUID v7), a type, a time (the writer's clock), an actor, a process
// id (0 when none), an optional idempotency key, data (owned by the
// writer) and a hash.
//
// Two forms of stored events exist; a log may hold both, version 1 groups
// followed by version 2 groups (Options.EnvelopeVersion chooses what new
// groups are written in; a server writes version 2).
//
// # Hash chain
//
// hash(e) = SHA-256(hash(previous event) || canonical form of e), where the
// canonical form is the version 1 stored form of e without its hash (below),
// with e's data as stored. The first event's previous hash is 32 zero bytes.
// The chain is the same whatever form an event is stored in: a group of
// either version, a backup line, a restored log. Changing, removing or
// reordering any event changes every hash after it, which Verify detects.
// The chain is computed by the appender and written in the same
// transaction as the event.
//
// # Version 1: one hash per event
//
// A version 1 group entry is its events, each framed as uvarint length +
// stored form, and nothing else (no version byte: it begins with the
// length of its first member, at least 56). The stored form of an event
// is, in order:
//
//	byte     version (1)
//	uvarint  seq
//	16 bytes id
//	varint   time, Unix nanoseconds
//	varint   process id
//	uvarint  length, then the bytes of the type
//	uvarint  length, then the bytes of the actor
//	uvarint  length, then the bytes of the idempotency key
//	uvarint  length, then the data
//	32 bytes hash
//
// # Version 2: one hash per group
//
// A version 2 group entry stores only the hash of its last event; readers
// compute the others along the chain from the hash of the event before
// the group (the last 32 bytes of the previous group entry, in either
// version). Header fields a member shares with the member before it are
// not repeated. In order:
//
//	byte     2
//	uvarint  seq of the first member (the others follow one by one)
//	members, each:
//	  byte     flags: 0x01 type as a code, 0x02 same time, 0x04 same
//	           actor, 0x08 same process id, 0x10 id begins with the
//	           previous id's first 6 bytes, 0x20 a key follows, 0x40 id
//	           begins with the member's time in milliseconds plus a
//	           number; other bits, 0x10 with 0x40, and the "same" bits
//	           and 0x10 in the first member are invalid
//	  id:      16 bytes; with 0x10 its last 10; with 0x40 a varint (its
//	           first 6 bytes as a 48-bit number, less the member's Unix
//	           milliseconds) then its last 10
//	  varint   time: Unix nanoseconds in the first member, nanoseconds
//	           after the previous member's in the others; absent with 0x02
//	  varint   process id; absent with 0x08
//	  type:    uvarint code with 0x01, else uvarint length + name
//	  actor:   uvarint length + bytes; absent with 0x04
//	  key:     uvarint length + bytes; only with 0x20 (else empty)
//	  uvarint  length, then the data
//	32 bytes hash of the last member
//
// The members run up to the last 32 bytes. Type codes come from the
// writer (Options.TypeCodes) and are stored in the log under 't' + code
// the first time they are written, so that any reader resolves them and
// a code can never come to stand for another name.
//
// Data is the writer's: JSON, or a compact form of it that starts with a
// byte JSON never starts with (Options.Payloads turns it to JSON and back
// for backups).
//
// # Badger key layout
//
//	'e' + last seq (8 bytes, big-endian)  a group: the events of one append,
//	                                     at most 64, in either version
//	'k' + idempotency key                 seq (8 bytes) of the event that
//	                                     carried the key first
//	't' + type code (8 bytes)             the type name the code stands for
//	"m/head"                              last seq (8 bytes) + its hash (32)
//
// One append (a Submit) becomes one or more group entries keyed by their
// last seq, so that a seek to seq s lands on the group holding s, and the
// group before it is under the key first seq - 1. Storing an append's
// events together costs one Badger entry instead of three for a typical
// report, which is most of the write cost; storing one hash instead of
// three, the type as a code and the shared header fields once makes a
// report's group about half as large.
//
// # Group commit
//
// Submit queues an append and returns a Pending. One goroutine takes
// everything queued (up to MaxBatchBytes), writes it in one Badger
// transaction with SyncWrites on, and resolves the Pendings in order once
// the transaction (and so the fsync of Badger's write-ahead log) returns.
// Appends that arrive during a sync join the next batch, so the cost of a
// sync is shared by everything waiting. If a commit fails, or the disk has
// less than MinFreeBytes free (Badger memory-maps its files and dies with
// SIGBUS when they cannot grow), the batch and everything queued behind it
// fail and the log takes no more appends: writers decided those appends on
// state that will now not be written, so only a restart, which reads the
// log again, may continue.
//
// # Reading
//
// Log.Range(ctx, from, to) is the one way to read: an iterator over the
// events from seq from to seq to (0: the end), in order. The Badger log
// reads in one read transaction, so a range sees the log as it was when it
// began: it seeks to the group holding from, decodes groups in key order,
// and stops at the first event past to or as soon as the consumer breaks
// off. It yields every event with its hash, computed for the members of a
// version 2 group (a range that starts inside one reads the hash stored in
// the group before). The event it yields is reused for the next one. Type
// names are interned as they are first read (up to 256 per log), so
// replay allocates no string for them.
//
// # Badger options
//
// Chosen for a 2-core machine and a write-once log, and gathered in a
// Tuning (DefaultLogTuning; Options.Tuning overrides any field):
//
//   - table blocks compressed with ZSTD at level 1, which stores a report
//     in about a third of the bytes (its JSON and ids compress well) and
//     keeps fewer table pages memory-mapped; Badger needs a block cache
//     with compression (16 MiB, on the Go heap), no index cache;
//   - three memtables of 32 MiB (smaller ones flush more often and cost
//     ingest speed), and a group commit capped at a sixteenth of one
//     (Badger refuses a transaction over 15% of a memtable);
//   - four level-0 tables before a compaction, tables of 2 MiB, two
//     compactors;
//   - value log files of 16 MiB: values stay in the LSM tree (they are
//     small), so these files stay nearly empty, but Badger creates each at
//     twice its size (apparent, not allocated) and value log garbage
//     collection is not needed;
//   - conflict detection off (there is a single writer).
//
// Badger v4 always memory-maps its tables (there is no loading mode to read
// them with plain file I/O), and a table it has just written stays in the
// page cache and in the mapping: `ps -o rss` counts those file-backed
// pages, which the kernel drops only under memory pressure. Everything
// else Badger allocates (memtables, table builders, the block cache) is on
// the Go heap, which the server's soft memory limit bounds. BENCHMARKS.md
// has the measurements behind these choices.
package eventlog
