// Package org is the emulator's Salesforce org: a schema (standard objects
// Account, Contact, Lead, Opportunity, Case, User and Profile, plus custom
// objects and fields from a JSON schema file, see SchemaFile), a record
// store, validation of writes with Salesforce's status codes and messages,
// SOQL evaluation over the AST of soql, limits and injectable row
// faults.
//
// The REST, composite and Bulk layers of the emulator translate their wire
// formats to Write, Get, Lookup and Query calls; everything that decides
// what happens to a record lives here, so every API validates alike.
//
// # Records and ids
//
// Ids have 18 characters: the object's key prefix, a 2-character pod
// derived from Options.Seed, and a counter shared by the whole org, plus the
// case-safe checksum; 15- and 18-character ids (in any case) are accepted
// on input. Every object has the system fields Id, IsDeleted, CreatedDate,
// CreatedById, LastModifiedDate, LastModifiedById and SystemModstamp, set
// from the org's clock and the writing user. Delete moves a record to the
// recycle bin (IsDeleted = true, visible to queries with includeDeleted);
// hardDelete removes it; undelete restores it.
//
// # Storage
//
// Records are held in memory as value slices indexed by field position,
// with hash indexes on unique and external id fields, and found by id
// through the counter the id encodes (one slice for the whole org, see
// idIndex); the in-memory store is the source of truth. With Options.DataFile they are also kept in a
// SQLite file (modernc.org/sqlite, WAL mode): loaded by New and written
// through, one transaction per Write call. One process at a time may use a
// data file.
//
// # Differences from Salesforce
//
//   - No sharing, field-level security, profile permissions, triggers,
//     workflow, validation rules, duplicate rules or assignment rules.
//   - Deletes do not cascade: deleting an Account leaves its Contacts'
//     AccountId pointing at the recycled record, and queries through the
//     lookup still see the parent.
//   - Write keys follow one relationship level ("Account.External_Id__c",
//     "Owner:User.Username"); the parent field must be an idLookup field
//     (Id, external ids, Name, Email, Username). Polymorphic lookups are
//     not modelled: each reference field refers to one object.
//   - Numbers are float64. Their integer digits are checked against the
//     field's precision minus scale (NUMBER_OUTSIDE_VALID_RANGE), but
//     decimals are not rounded to the scale.
//   - Only one error is reported per record (Salesforce sometimes lists
//     several): the first of unknown fields, fields that may not be written,
//     bad values, bad references, missing required fields, duplicates.
//   - A reference field given a string that is not an id fails with
//     MALFORMED_ID, an id of another object with FIELD_INTEGRITY_EXCEPTION
//     (both "Account ID: id value of incorrect type: …"), an id of the
//     right object that does not exist with INVALID_CROSS_REFERENCE_KEY. A
//     relationship column (Account.External_Id__c) whose value matches no
//     parent fails with INVALID_FIELD ("Foreign key external ID: … not found
//     for field … in entity …"), as on Salesforce.
//   - Update or delete of an id that never existed is NOT_FOUND
//     ("The requested resource does not exist").
//   - Records in the recycle bin keep their unique values out of the
//     indexes: a new record may reuse them, and undelete then fails with
//     DUPLICATE_VALUE.
//   - SOQL text comparisons are case-insensitive on every text field,
//     including case-sensitive external ids; without ORDER BY rows come in
//     insertion order.
//   - Daily limits reset at midnight UTC of the org clock rather than over
//     a rolling 24 hours. DataStorageMB counts 2 KB per record.
//   - Writes are serialized org-wide (no row locks; lock contention is
//     emulated by the Bulk layer). A query holds a read lock while it
//     evaluates and copies its rows.
package org
