// Package plan loads a graph of objects in one run: a plan file (YAML or JSON, described
// by schema.json) lists objects with their sources, operations, external ids, mappings,
// conversions and null handling; Compile orders them from the org's describe (parents
// first, whatever the file's order), and Run loads each step through package load.
//
// # References
//
// A column is a reference to another object of the plan when describe says it is a
// lookup or master-detail field to it ("AccountId") or a relationship column through an
// external id ("Account.External_Id__c"). A lookup column holding the source system's ids
// is translated, row by row, to the ids this run created, when the target object names its
// source id column (Object.Key): after each step, the pairs (source id, new id) are kept in
// a table of run.db, so that a resumed plan still has them. A row whose lookup names a
// row that was not loaded fails alone (ErrUnresolved).
//
// # Org-to-org copies
//
// An Object whose Query is set reads its rows with SOQL from a source connection:
// FetchSources runs each query once into the run folder's sources/Object.csv, which is then
// the object's source for Compile, the preview, Run, resume and retry. A query that selects
// Id makes Id the object's Key, so the other objects' lookups to it (ids of the source org)
// are translated to the ids created in the target; the source's Id itself is never sent.
//
// # Files
//
// A ContentVersion step with a VersionData column of local file paths is a files step
// (Step.Files): each row is created with salesforce.SObject.CreateWithBlob, its file
// streamed in a multipart request, one request per row, and its outcome journaled in
// NN-ContentVersion/files.jsonl before and after the upload, so a resumed step sends only
// the rows never sent and leaves unknown the one under way. Attachment steps with a Body
// column work the same way.
//
// # Self-references and cycles
//
// A lookup of an object to itself (Account.ParentId, Contact.ReportsToId), and in a cycle
// between objects the optional lookups of the first object found in file order, are left
// out of the first pass and filled by a second pass: an update by the ids the first pass
// created, generated as NN-Object/input.csv. A cycle whose lookups are all required (or
// master-detail) cannot be loaded that way; Compile reports it as an *Error.
//
// # The run folder
//
// Dir holds plan.json (the ordered steps and their inputs' SHA-256), run.db (the journal
// of every step, one jobstore run per step, and the id map) and one folder per step,
// NN-Object, with the load's result files and summary.json. Options.Resume skips the
// completed steps, resumes the interrupted one (load.Options.Resume: nothing is sent
// twice) and runs the rest.
package plan
