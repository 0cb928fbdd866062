// Package org is the emulator's Salesforce org: a schema (standard objects
// Account, Contact, Lead, Opportunity, Case, User and Profile, plus custom
// objects and fields from a JSON schema file), a record store, validation
// of writes with Salesforce's status codes and messages, SOQL evaluation
// over the AST of internal/soql, limits and injectable row faults.
//
// The REST, composite and Bulk layers of the emulator translate their wire
// formats to Write, Get and Query calls; everything that decides what
// happens to a record lives here, so every API validates alike.
//
// # Storage
//
// Records are held in memory as value slices indexed by field position,
// with hash indexes on unique and external id fields. With
// Options.DataFile they are also kept in a SQLite file (modernc.org/sqlite,
// WAL mode): loaded by New and written through, one transaction per Write
// call.
//
// # Differences from Salesforce
//
//   - No sharing, field-level security, profiles' permissions, triggers,
//     workflow, validation rules, duplicate rules or assignment rules.
//   - Lookups are not cascaded: deleting an Account leaves its Contacts'
//     AccountId pointing at the recycled record; queries through it see
//     the parent as it is in the recycle bin.
//   - Only one level of relationship path is accepted in write keys
//     ("Account.External_Id__c"); polymorphic "Owner:User.Username" keys
//     are not.
//   - Numbers are float64; precision and scale are not enforced.
//   - Daily limits reset at midnight UTC of the org clock rather than over
//     a rolling 24 hours. DataStorageMB counts 2 KB per record.
//   - A reference field given a string that is not an id fails with
//     MALFORMED_ID, an id of another object with FIELD_INTEGRITY_EXCEPTION
//     (both "Account ID: id value of incorrect type: …"), an id of the
//     right object that does not exist with INVALID_CROSS_REFERENCE_KEY.
//   - Update or delete of an id that never existed is NOT_FOUND.
//   - Deleted records keep their unique values out of the indexes: a new
//     record may reuse them, and undelete then fails with DUPLICATE_VALUE.
//   - Writes are serialized org-wide (no row locks; lock contention is
//     emulated by the Bulk layer).
package org
