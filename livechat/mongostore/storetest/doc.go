// Package storetest opens throwaway mongostore Stores for the tests of other
// packages: an embedded FerretDB per test, or a fresh database on the MongoDB
// named by CHATBRIDGE_TEST_MONGO_URI. Import it only from _test.go files.
package storetest
