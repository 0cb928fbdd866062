// Package dirjournal keeps a load's journal in a directory that may live on storage without
// locks, random writes or rename-over (a FUSE mount of object storage, NFS), so that a run
// can be retried by another process on another machine without sending a row twice.
//
// # Layout
//
// Every irreversible step the engine records (load.Journal: job created, uploaded, closed,
// results fetched with its done rows) is written to the directory as a small write-once file,
// step-LLLLLLLL-SSSSSSSS.json (L: the lease number of the attempt that wrote it, S: its
// sequence within the attempt), before the step is applied to a local SQLite cache
// (jobstore). Callers add their own write-once files the same way (WriteBlob: row hashes,
// results). An attempt rebuilds its cache by replaying every step file in name order, which
// is the order they were written in, so the cache never needs to travel between machines.
// Every such file ends with a trailer (a magic number and the CRC-32 of its content): storage
// without rename cannot make a file appear whole, so a file its writer did not finish is
// recognised (ErrTorn) and skipped.
//
// # Leases
//
// One attempt owns the directory at a time. Ownership is the newest lease file, lease-N,
// created with O_EXCL and holding the owner's attempt id on its first line; the owner appends
// a line with a renewal counter every LeasePeriod/4 and "released" when it is done. Another
// attempt waits: it takes over only by creating lease-N+1, and only when lease-N says released
// or its content has not changed for LeasePeriod as measured by the waiter's own clock. Clocks
// of different machines are never compared. An owner that finds lease-N+1 has lost the
// directory and writes nothing more.
//
// # What this package owns, and what it must not touch
//
// It owns the journal directory: its step, blob and lease files, their
// trailers, and the lease protocol, on storage reached only through FS.
// The local cache is package jobstore's SQLite, rebuilt from the step files
// and never copied between machines. It does not decide which steps a load
// takes or when (package load does, through load.Journal, which Dir
// implements without importing load), never talks to Salesforce, and
// never rewrites, renames or locks a file in the directory.
package dirjournal
