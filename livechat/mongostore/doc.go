// Package mongostore is the Mongo implementation of livechat.Store, and the
// only package of chatbridge that imports the Mongo driver and FerretDB.
//
// It owns:
//   - connecting to a MongoDB (or any Mongo-compatible server) given a URI;
//   - with no URI, running FerretDB in-process on SQLite files in the data
//     directory, guarded by an exclusive lock on that directory so two
//     processes never embed FerretDB on the same files;
//   - creating collections and indexes at start-up, idempotently;
//   - one generic Collection implementation that translates livechat.Query
//     into Mongo filters and maps driver errors onto livechat.ErrNotFound and
//     livechat.ErrConflict, so the core never sees a driver type.
//
// Documents are written whole (insert or replace by _id): FerretDB's updates
// are read-modify-write without compare-and-swap, so the core orders writes
// of one document inside the process and claims shared work by inserting a
// document with a unique _id.
//
// Sub-package storetest opens a throwaway Store for tests of other packages.
package mongostore
