package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/mongostore"
	"github.com/chatbridge/chatbridge/livechat/mongostore/storetest"
)

// TestContractEmbedded runs the contract against one embedded FerretDB,
// each subtest on its own database, plus the embedded-only behaviour:
// persistence on disk and the data-directory lock.
func TestContractEmbedded(t *testing.T) {
	t.Parallel()
	shared := openStore(t, mongostore.Config{DataDir: t.TempDir()})
	runContract(t, func(t *testing.T) livechat.Store {
		return openStore(t, mongostore.Config{URI: shared.URI(), Database: storetest.DatabaseName()})
	})

	t.Run("Persistence", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testPersistence(t, func(t *testing.T) *mongostore.Store {
			return openStore(t, mongostore.Config{DataDir: dir})
		})
	})

	t.Run("DataDirLock", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		first := openStore(t, mongostore.Config{DataDir: dir})
		if !first.Embedded() {
			t.Fatal("store with no URI is not embedded")
		}
		_, err := mongostore.Open(t.Context(), mongostore.Config{DataDir: dir, Logger: testLogger()})
		if !errors.Is(err, mongostore.ErrDataDirLocked) {
			t.Fatalf("second Open on a locked data dir: got %v, want ErrDataDirLocked", err)
		}
		t.Logf("refusal reads: %v", err)
		// Another process (or test) can still share the running store by URI.
		byURI := openStore(t, mongostore.Config{URI: first.URI()})
		if err := byURI.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Disconnect it first: FerretDB gives connected clients 3 s to leave.
		if err := byURI.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := first.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		again := openStore(t, mongostore.Config{DataDir: dir})
		if err := again.Ping(t.Context()); err != nil {
			t.Fatalf("Open after Close released the lock: %v", err)
		}
	})

	t.Run("NoDataDir", func(t *testing.T) {
		t.Parallel()
		if _, err := mongostore.Open(t.Context(), mongostore.Config{}); err == nil {
			t.Fatal("Open with neither URI nor DataDir succeeded")
		}
	})
}

// TestContractMongo runs the contract against the MongoDB named by
// CHATBRIDGE_TEST_MONGO_URI, on fresh databases dropped at the end.
func TestContractMongo(t *testing.T) {
	uri := os.Getenv(storetest.EnvMongoURI)
	if uri == "" {
		t.Skipf("%s not set", storetest.EnvMongoURI)
	}
	t.Parallel()
	runContract(t, func(t *testing.T) livechat.Store {
		return openDropped(t, uri, storetest.DatabaseName())
	})
	t.Run("Persistence", func(t *testing.T) {
		t.Parallel()
		db := storetest.DatabaseName()
		// Registered first, so it runs after both stores are closed.
		t.Cleanup(func() {
			s, err := mongostore.Open(context.Background(), mongostore.Config{URI: uri, Database: db, Logger: testLogger()})
			if err != nil {
				t.Errorf("reopen to drop: %v", err)
				return
			}
			if err := s.DropDatabase(context.Background()); err != nil {
				t.Errorf("drop: %v", err)
			}
			_ = s.Close(context.Background())
		})
		testPersistence(t, func(t *testing.T) *mongostore.Store {
			return openStore(t, mongostore.Config{URI: uri, Database: db})
		})
	})
}

// TestStoretestOpen checks the helper other packages use.
func TestStoretestOpen(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Agents().Count(t.Context(), livechat.Query{}); err != nil || n != 0 {
		t.Fatalf("fresh store has %d agents, err %v", n, err)
	}
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openStore opens a store closed at the end of the test.
func openStore(t *testing.T, cfg mongostore.Config) *mongostore.Store {
	t.Helper()
	cfg.Logger = testLogger()
	s, err := mongostore.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openDropped opens database db on uri and drops it at the end of the test.
func openDropped(t *testing.T, uri, db string) *mongostore.Store {
	t.Helper()
	s := openStore(t, mongostore.Config{URI: uri, Database: db})
	t.Cleanup(func() {
		if err := s.DropDatabase(context.Background()); err != nil {
			t.Errorf("drop: %v", err)
		}
	})
	return s
}

// testPersistence writes through one Store, closes it, and reads through a
// second one opened the same way.
func testPersistence(t *testing.T, open func(t *testing.T) *mongostore.Store) {
	ctx := t.Context()
	s := open(t)
	a := fullAgent("p@example.com", "acc-p", "p")
	must(t, s.Agents().Insert(ctx, a))
	must(t, s.Claims().Insert(ctx, &livechat.Claim{ID: "work", Owner: "one", CreatedAt: at(0), ExpiresAt: at(60)}))
	must(t, s.Close(ctx))
	must(t, s.Close(ctx)) // idempotent

	s2 := open(t)
	got, err := s2.Agents().Get(ctx, a.ID)
	must(t, err)
	equal(t, got, a)
	// The schema survived too: the unique index still refuses a duplicate.
	err = s2.Agents().Insert(ctx, fullAgent("q@example.com", "acc-q", "p"))
	isErr(t, err, livechat.ErrConflict)
	err = s2.Claims().Insert(ctx, &livechat.Claim{ID: "work", Owner: "two"})
	isErr(t, err, livechat.ErrConflict)
}

// runContract checks what the core relies on from every livechat.Store.
// open returns a fresh, empty store for one subtest.
func runContract(t *testing.T, open func(t *testing.T) livechat.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s livechat.Store)
	}{
		{"AgentCRUD", testAgentCRUD},
		{"GroupIntIDs", testGroupIntIDs},
		{"InsertMany", testInsertMany},
		{"UniqueIndexes", testUniqueIndexes},
		{"RoundTripEveryModel", testRoundTrip},
		{"FreeFormValues", testFreeFormValues},
		{"Times", testTimes},
		{"QueryOps", testQueryOps},
		{"SortSkipLimit", testSortSkipLimit},
		{"DottedFields", testDottedFields},
		{"CountAndDeleteWhere", testCountAndDeleteWhere},
		{"Claims", testClaims},
		{"BadQueries", testBadQueries},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func testAgentCRUD(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	agents := s.Agents()
	a := fullAgent("a@example.com", "acc-a", "alice")

	_, err := agents.Get(ctx, a.ID)
	isErr(t, err, livechat.ErrNotFound)
	isErr(t, agents.Replace(ctx, a.ID, a), livechat.ErrNotFound)
	isErr(t, agents.Delete(ctx, a.ID), livechat.ErrNotFound)

	must(t, agents.Insert(ctx, a))
	isErr(t, agents.Insert(ctx, a), livechat.ErrConflict)
	got, err := agents.Get(ctx, a.ID)
	must(t, err)
	equal(t, got, a)

	a.Name = "Alice Renamed"
	a.Groups = nil
	a.Suspended = false
	a.UpdatedAt = at(99)
	must(t, agents.Replace(ctx, a.ID, a))
	got, err = agents.Get(ctx, a.ID)
	must(t, err)
	equal(t, got, a)

	must(t, agents.Delete(ctx, a.ID))
	_, err = agents.Get(ctx, a.ID)
	isErr(t, err, livechat.ErrNotFound)
	isErr(t, agents.Delete(ctx, a.ID), livechat.ErrNotFound)

	all, err := agents.Find(ctx, livechat.Query{})
	must(t, err)
	if all == nil || len(all) != 0 {
		t.Fatalf("Find on an empty collection = %#v, want an empty non-nil slice", all)
	}
}

// testInsertMany: one call stores every document whose id is free, and a
// conflict with a stored id is ErrConflict without losing the others.
func testInsertMany(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	groups := s.Groups()
	must(t, groups.InsertMany(ctx, nil))
	must(t, groups.InsertMany(ctx, []livechat.Group{{ID: 1, Name: "one"}, {ID: 2, Name: "two"}}))
	isErr(t, groups.InsertMany(ctx, []livechat.Group{{ID: 2, Name: "again"}, {ID: 3, Name: "three"}, {ID: 1}}), livechat.ErrConflict)
	got, err := groups.Find(ctx, livechat.Query{})
	must(t, err)
	equal(t, groupIDs(got), []int{1, 2, 3})
	g, err := groups.Get(ctx, 2)
	must(t, err)
	equal(t, g.Name, "two")
}

func testGroupIntIDs(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	groups := s.Groups()
	for _, id := range []int{10, 0, 2, 1} {
		must(t, groups.Insert(ctx, &livechat.Group{ID: id, Name: fmt.Sprint("g", id), LanguageCode: "en", CreatedAt: at(int64(id))}))
	}
	isErr(t, groups.Insert(ctx, &livechat.Group{ID: 2}), livechat.ErrConflict)
	g, err := groups.Get(ctx, 0)
	must(t, err)
	equal(t, g, &livechat.Group{ID: 0, Name: "g0", LanguageCode: "en", CreatedAt: at(0)})
	_, err = groups.Get(ctx, 3)
	isErr(t, err, livechat.ErrNotFound)

	got, err := groups.Find(ctx, livechat.Query{})
	must(t, err)
	equal(t, groupIDs(got), []int{0, 1, 2, 10}) // numeric, not lexical, _id order

	got, err = groups.Find(ctx, livechat.Where(livechat.Cond{Field: "_id", Op: livechat.OpGte, Value: 2}))
	must(t, err)
	equal(t, groupIDs(got), []int{2, 10})

	// A replace cannot move a document to another id.
	err = groups.Replace(ctx, 10, &livechat.Group{ID: 11, Name: "moved"})
	if err == nil || errors.Is(err, livechat.ErrNotFound) || errors.Is(err, livechat.ErrConflict) {
		t.Fatalf("Replace with a different _id: got %v, want a plain error", err)
	}
	_, err = groups.Get(ctx, 11)
	isErr(t, err, livechat.ErrNotFound)

	must(t, groups.Replace(ctx, 10, &livechat.Group{ID: 10, Name: "ten", CreatedAt: at(10)}))
	g, err = groups.Get(ctx, 10)
	must(t, err)
	equal(t, g.Name, "ten")
	must(t, groups.Delete(ctx, 10))
	isErr(t, groups.Delete(ctx, 10), livechat.ErrNotFound)
}

func testUniqueIndexes(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	agents := s.Agents()
	must(t, agents.Insert(ctx, fullAgent("a@example.com", "acc-a", "alice")))
	must(t, agents.Insert(ctx, fullAgent("b@example.com", "acc-b", "bob")))

	isErr(t, agents.Insert(ctx, fullAgent("c@example.com", "acc-c", "alice")), livechat.ErrConflict)
	isErr(t, agents.Insert(ctx, fullAgent("d@example.com", "acc-a", "dave")), livechat.ErrConflict)

	// A replace that would take another agent's username conflicts too.
	b := fullAgent("b@example.com", "acc-b", "alice")
	isErr(t, agents.Replace(ctx, b.ID, b), livechat.ErrConflict)
	got, err := agents.Get(ctx, b.ID)
	must(t, err)
	equal(t, got.Username, "bob")

	// The refused documents were not stored.
	n, err := agents.Count(ctx, livechat.Query{})
	must(t, err)
	equal(t, n, int64(2))

	// Once the holder is gone the key is free again.
	must(t, agents.Delete(ctx, "a@example.com"))
	must(t, agents.Insert(ctx, fullAgent("c@example.com", "acc-c", "alice")))
}

func testRoundTrip(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	ended := at(30)
	banned := at(3600)
	closed := at(500)

	org := &livechat.Organization{ID: livechat.OrganizationDocID, OrganizationID: "1f0c2c9e-9d5b-4d0e-8d52-3c1f1f1f1f1f", LicenseID: 1 << 40, CreatedAt: at(1)}
	roundTrip(t, s.Organizations(), org.ID, org)

	roundTrip(t, s.Agents(), "a@example.com", fullAgent("a@example.com", "acc-a", "alice"))
	roundTrip(t, s.Groups(), 7, &livechat.Group{ID: 7, Name: "Sales", LanguageCode: "de", CreatedAt: at(2)})

	cust := &livechat.Customer{
		ID: "b7a1e1c4-6d1e-4b8e-9c3d-000000000001", Name: "Carol", Email: "carol@example.com", EmailVerified: true,
		Avatar:        "https://example.com/c.png",
		SessionFields: []map[string]string{{"plan": "pro"}, {"source": "ad"}},
		GroupIDs:      []int{0, 7},
		LastVisit: &livechat.Visit{
			ID: 3, StartedAt: at(10), EndedAt: &ended, Referrer: "https://ref.example", IP: "192.0.2.1", UserAgent: "UA/1",
			LastPages: []livechat.Page{{OpenedAt: at(11), URL: "https://example.com/", Title: "Home"}, {OpenedAt: at(12), URL: "https://example.com/b"}},
		},
		BannedUntil: &banned, Followers: []string{"a@example.com"},
		ChatsCount: 2, ThreadsCount: 3, VisitsCount: 4,
		AgentLastEventAt: ptr(at(20)), CustomerLastEventAt: ptr(at(21)),
		CreatedAt: at(3), UpdatedAt: at(4),
	}
	roundTrip(t, s.Customers(), cust.ID, cust)

	chat := &livechat.Chat{
		ID: "CHAT1", CustomerID: cust.ID,
		Users: []livechat.ChatUser{
			{ID: cust.ID, Type: livechat.UserCustomer, Present: true, Visibility: livechat.VisibilityAll, EventsSeenUpTo: at(40)},
			{ID: "a@example.com", Type: livechat.UserAgent, Present: false, Visibility: livechat.VisibilityAgents, EventsSeenUpTo: at(41)},
		},
		Access:     livechat.Access{GroupIDs: []int{0, 7}},
		Properties: livechat.Properties{"routing": {"continuous": true, "idle": 3, "source": "web"}, "empty": {}},
		Followers:  []string{"a@example.com"}, ActiveThreadID: "T1", LastThreadID: "T1",
		LastThreadCreatedAt: at(50), LastEventAt: at(51), ThreadCount: 1, Continuous: true,
		CreatedAt: at(5), UpdatedAt: at(6),
	}
	roundTrip(t, s.Chats(), chat.ID, chat)

	thread := &livechat.Thread{
		ID: "T1", ChatID: chat.ID, Active: true, UserIDs: []string{cust.ID, "a@example.com"},
		Properties: livechat.Properties{"rating": {"score": 1, "comment": "good", "ok": false}},
		Access:     livechat.Access{GroupIDs: []int{7}}, Tags: []string{"sales", "vip"},
		PreviousThreadID: "T0", NextThreadID: "T2",
		Queue:      &livechat.Queue{Position: 2, WaitTime: 30, QueuedAt: at(52)},
		EventCount: 9, LastEventAt: at(53), CreatedAt: at(54), ClosedAt: &closed,
	}
	roundTrip(t, s.Threads(), thread.ID, thread)

	ev := fullEvent()
	roundTrip(t, s.Events(), ev.ID, ev)

	tok := &livechat.Token{
		ID: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Kind: livechat.TokenPersonal,
		Subject: "a@example.com", ClientID: "client", Name: "ci", Scopes: []string{"chats--all:ro", "agents--my:rw"},
		Parent: "parent", CreatedAt: at(60), ExpiresAt: at(7200),
	}
	roundTrip(t, s.Tokens(), tok.ID, tok)

	roundTrip(t, s.Claims(), "close:T1", &livechat.Claim{ID: "close:T1", Owner: "instance-1", CreatedAt: at(70), ExpiresAt: at(130)})

	// Zero values and nil pointers survive as zero values and nil pointers.
	roundTrip(t, s.Threads(), "T-empty", &livechat.Thread{ID: "T-empty"})
	roundTrip(t, s.Events(), "E-empty", &livechat.Event{ID: "E-empty"})
	roundTrip(t, s.Tokens(), "tok-never", &livechat.Token{ID: "tok-never", Kind: livechat.TokenBot})
	got, err := s.Tokens().Get(ctx, "tok-never")
	must(t, err)
	if !got.ExpiresAt.IsZero() || got.Expired(at(1e6)) {
		t.Fatalf("zero expiry read back as %v", got.ExpiresAt)
	}
}

// testFreeFormValues checks that `any` values read back as plain Go values
// (map[string]any, []any, int, bool, string, float64, time.Time), not as
// driver types, so the core can type-switch on them.
func testFreeFormValues(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	ev := fullEvent()
	must(t, s.Events().Insert(ctx, ev))
	got, err := s.Events().Get(ctx, ev.ID)
	must(t, err)
	equal(t, got, ev)

	content, ok := got.Content.(map[string]any)
	if !ok {
		t.Fatalf("Content is %T, want map[string]any", got.Content)
	}
	elems, ok := content["elements"].([]any)
	if !ok || len(elems) != 2 {
		t.Fatalf("content.elements is %T %v, want []any of 2", content["elements"], content["elements"])
	}
	if _, ok := elems[0].(map[string]any); !ok {
		t.Fatalf("content.elements[0] is %T, want map[string]any", elems[0])
	}
	if f, ok := got.Fields[0].(map[string]any); !ok || f["required"] != true {
		t.Fatalf("fields[0] = %#v", got.Fields[0])
	}
	if v := got.Properties["ns"]["count"]; v != 3 {
		t.Fatalf("properties.ns.count = %#v (%T), want int 3", v, v)
	}
	if v := got.Properties["ns"]["big"]; v != 1<<40 {
		t.Fatalf("properties.ns.big = %#v (%T), want int 1<<40", v, v)
	}
	if v := got.Properties["ns"]["when"]; v != at(5) {
		t.Fatalf("properties.ns.when = %#v (%T), want time.Time", v, v)
	}

	// Scalar and array contents are kept as they are.
	for i, c := range []any{"plain text", 42, 2.5, true, []any{"a", 1, map[string]any{"k": "v"}}} {
		e := &livechat.Event{ID: fmt.Sprint("content-", i), Type: livechat.EventCustom, Content: c}
		roundTrip(t, s.Events(), e.ID, e)
	}

	// Values decoded from JSON (float64 numbers) stay float64.
	e := &livechat.Event{ID: "json", Type: livechat.EventCustom, Properties: livechat.Properties{"ns": {"n": float64(3)}}}
	roundTrip(t, s.Events(), e.ID, e)
}

func testTimes(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	precise := time.Date(2025, 3, 4, 5, 6, 7, 123_456_789, loc)
	must(t, s.Groups().Insert(ctx, &livechat.Group{ID: 1, CreatedAt: precise}))
	g, err := s.Groups().Get(ctx, 1)
	must(t, err)
	if g.CreatedAt.Location() != time.UTC {
		t.Errorf("time read back in %v, want UTC", g.CreatedAt.Location())
	}
	want := precise.Truncate(time.Millisecond).UTC()
	if !g.CreatedAt.Equal(want) || g.CreatedAt != want {
		t.Errorf("time read back as %v, want %v (ms precision, UTC)", g.CreatedAt, want)
	}

	// The zero time survives as the zero time.
	must(t, s.Groups().Insert(ctx, &livechat.Group{ID: 2}))
	g, err = s.Groups().Get(ctx, 2)
	must(t, err)
	if !g.CreatedAt.IsZero() {
		t.Errorf("zero time read back as %v", g.CreatedAt)
	}

	// A time query given in another zone compares instants, not wall clocks.
	got, err := s.Groups().Find(ctx, livechat.Where(livechat.Cond{Field: "created_at", Op: livechat.OpGte, Value: precise.Add(-time.Millisecond).In(time.Local)}))
	must(t, err)
	equal(t, groupIDs(got), []int{1})
}

func testQueryOps(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	events := s.Events()
	seed := []*livechat.Event{
		{ID: "e1", ChatID: "c1", ThreadID: "t1", Type: livechat.EventMessage, Visibility: livechat.VisibilityAll, Size: 10, CreatedAt: at(1), CustomID: "x1"},
		{ID: "e2", ChatID: "c1", ThreadID: "t1", Type: livechat.EventSystemMessage, Visibility: livechat.VisibilityAll, Size: 20, CreatedAt: at(2)},
		{ID: "e3", ChatID: "c1", ThreadID: "t2", Type: livechat.EventFile, Visibility: livechat.VisibilityAgents, Size: 30, CreatedAt: at(3), CustomID: "x3"},
		{ID: "e4", ChatID: "c2", ThreadID: "t3", Type: livechat.EventMessage, Visibility: livechat.VisibilityAll, Size: 40, CreatedAt: at(4)},
		{ID: "e5", ChatID: "c2", ThreadID: "t3", Type: livechat.EventCustom, Visibility: livechat.VisibilityAgents, Size: 50, CreatedAt: at(5)},
	}
	for _, e := range seed {
		must(t, events.Insert(ctx, e))
	}
	C := func(f string, op livechat.Op, v any) livechat.Cond { return livechat.Cond{Field: f, Op: op, Value: v} }
	tests := []struct {
		name string
		q    livechat.Query
		want []string
	}{
		{"all", livechat.Query{}, []string{"e1", "e2", "e3", "e4", "e5"}},
		{"eq", livechat.Where(livechat.Eq("chat_id", "c1")), []string{"e1", "e2", "e3"}},
		{"eq id", livechat.Where(livechat.Eq("_id", "e4")), []string{"e4"}},
		{"eq none", livechat.Where(livechat.Eq("chat_id", "nope")), []string{}},
		{"two fields", livechat.Where(livechat.Eq("chat_id", "c1"), livechat.Eq("visibility", livechat.VisibilityAll)), []string{"e1", "e2"}},
		{"ne", livechat.Where(C("type", livechat.OpNe, livechat.EventMessage)), []string{"e2", "e3", "e5"}},
		{"in", livechat.Where(C("thread_id", livechat.OpIn, []string{"t1", "t3"})), []string{"e1", "e2", "e4", "e5"}},
		{"in ids", livechat.Where(C("_id", livechat.OpIn, []string{"e5", "e1", "zz"})), []string{"e1", "e5"}},
		{"in empty", livechat.Where(C("thread_id", livechat.OpIn, []string{})), []string{}},
		{"in nil", livechat.Where(C("thread_id", livechat.OpIn, []string(nil))), []string{}},
		{"nin", livechat.Where(C("type", livechat.OpNin, []string{livechat.EventMessage, livechat.EventCustom})), []string{"e2", "e3"}},
		{"nin nil", livechat.Where(C("type", livechat.OpNin, []string(nil))), []string{"e1", "e2", "e3", "e4", "e5"}},
		{"lt time", livechat.Where(C("created_at", livechat.OpLt, at(3))), []string{"e1", "e2"}},
		{"lte time", livechat.Where(C("created_at", livechat.OpLte, at(3))), []string{"e1", "e2", "e3"}},
		{"gt time", livechat.Where(C("created_at", livechat.OpGt, at(3))), []string{"e4", "e5"}},
		{"gte time", livechat.Where(C("created_at", livechat.OpGte, at(3))), []string{"e3", "e4", "e5"}},
		{"lt int", livechat.Where(C("size", livechat.OpLt, 30)), []string{"e1", "e2"}},
		{"gt int64", livechat.Where(C("size", livechat.OpGt, int64(30))), []string{"e4", "e5"}},
		{"range", livechat.Where(C("size", livechat.OpGt, 10), C("size", livechat.OpLte, 40)), []string{"e2", "e3", "e4"}},
		{"eq and ne same field", livechat.Where(C("chat_id", livechat.OpEq, "c1"), C("chat_id", livechat.OpNe, "c2")), []string{"e1", "e2", "e3"}},
		{"repeated op", livechat.Where(C("type", livechat.OpNe, livechat.EventMessage), C("type", livechat.OpNe, livechat.EventCustom)), []string{"e2", "e3"}},
		{"exists", livechat.Where(C("custom_id", livechat.OpExists, true)), []string{"e1", "e3"}},
		{"not exists", livechat.Where(C("custom_id", livechat.OpExists, false)), []string{"e2", "e4", "e5"}},
		{"combined", livechat.Where(livechat.Eq("chat_id", "c1"), C("created_at", livechat.OpGt, at(1)), C("custom_id", livechat.OpExists, false)), []string{"e2"}},
	}
	for _, tt := range tests {
		got, err := events.Find(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: Find: %v", tt.name, err)
			continue
		}
		if ids := eventIDs(got); !slices.Equal(ids, tt.want) || ids == nil {
			t.Errorf("%s: Find = %v, want %v", tt.name, ids, tt.want)
		}
		n, err := events.Count(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: Count: %v", tt.name, err)
			continue
		}
		if n != int64(len(tt.want)) {
			t.Errorf("%s: Count = %d, want %d", tt.name, n, len(tt.want))
		}
	}
}

func testSortSkipLimit(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	events := s.Events()
	// Created in an order unlike _id order, with a tie at at(2).
	for i, sec := range []int64{5, 2, 9, 2, 7} {
		must(t, events.Insert(ctx, &livechat.Event{ID: fmt.Sprint("e", i), ThreadID: "t", CreatedAt: at(sec), Size: int64(100 - i)}))
	}
	tests := []struct {
		name string
		q    livechat.Query
		want []string
	}{
		{"default _id asc", livechat.Query{}, []string{"e0", "e1", "e2", "e3", "e4"}},
		{"_id desc", livechat.Query{Desc: true}, []string{"e4", "e3", "e2", "e1", "e0"}},
		{"time asc, ties by _id", livechat.Query{Sort: "created_at"}, []string{"e1", "e3", "e0", "e4", "e2"}},
		{"time desc, ties by _id desc", livechat.Query{Sort: "created_at", Desc: true}, []string{"e2", "e4", "e0", "e3", "e1"}},
		{"int asc", livechat.Query{Sort: "size"}, []string{"e4", "e3", "e2", "e1", "e0"}},
		{"limit", livechat.Query{Sort: "created_at", Limit: 2}, []string{"e1", "e3"}},
		{"skip", livechat.Query{Sort: "created_at", Skip: 3}, []string{"e4", "e2"}},
		{"skip limit", livechat.Query{Sort: "created_at", Skip: 1, Limit: 2}, []string{"e3", "e0"}},
		{"desc skip limit", livechat.Query{Sort: "created_at", Desc: true, Skip: 1, Limit: 3}, []string{"e4", "e0", "e3"}},
		{"skip past end", livechat.Query{Skip: 10}, []string{}},
		{"where sort limit", livechat.Query{Where: []livechat.Cond{{Field: "created_at", Op: livechat.OpGt, Value: at(2)}}, Sort: "created_at", Desc: true, Limit: 2}, []string{"e2", "e4"}},
	}
	for _, tt := range tests {
		got, err := events.Find(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ids := eventIDs(got); !slices.Equal(ids, tt.want) {
			t.Errorf("%s: Find = %v, want %v", tt.name, ids, tt.want)
		}
	}
	// Count ignores Sort, Skip and Limit.
	n, err := events.Count(ctx, livechat.Query{Sort: "created_at", Skip: 1, Limit: 2})
	must(t, err)
	equal(t, n, int64(5))
}

func testDottedFields(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	chats := s.Chats()
	for id, groups := range map[string][]int{"c0": {0}, "c1": {0, 1}, "c2": {2}, "c3": nil} {
		must(t, chats.Insert(ctx, &livechat.Chat{
			ID: id, Access: livechat.Access{GroupIDs: groups},
			Users:      []livechat.ChatUser{{ID: "cust-" + id, Type: livechat.UserCustomer}},
			Properties: livechat.Properties{"routing": {"idle": len(groups) > 0}},
		}))
	}
	C := func(f string, op livechat.Op, v any) livechat.Cond { return livechat.Cond{Field: f, Op: op, Value: v} }
	tests := []struct {
		name string
		q    livechat.Query
		want []string
	}{
		{"array in", livechat.Where(C("access.group_ids", livechat.OpIn, []int{1, 2})), []string{"c1", "c2"}},
		{"array eq element", livechat.Where(livechat.Eq("access.group_ids", 0)), []string{"c0", "c1"}},
		{"array nin", livechat.Where(C("access.group_ids", livechat.OpNin, []int{0})), []string{"c2", "c3"}},
		{"array of docs", livechat.Where(livechat.Eq("users.id", "cust-c2")), []string{"c2"}},
		{"property", livechat.Where(livechat.Eq("properties.routing.idle", true)), []string{"c0", "c1", "c2"}},
		{"property exists", livechat.Where(C("properties.routing.other", livechat.OpExists, true)), []string{}},
	}
	for _, tt := range tests {
		got, err := chats.Find(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ids := chatIDs(got); !slices.Equal(ids, tt.want) {
			t.Errorf("%s: Find = %v, want %v", tt.name, ids, tt.want)
		}
	}
}

func testCountAndDeleteWhere(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	tokens := s.Tokens()
	for i := range 6 {
		must(t, tokens.Insert(ctx, &livechat.Token{
			ID: fmt.Sprint("tok", i), Kind: livechat.TokenAgentAccess, Subject: fmt.Sprint("agent", i%2),
			CreatedAt: at(int64(i)), ExpiresAt: at(int64(100 + i*10)),
		}))
	}
	n, err := tokens.Count(ctx, livechat.Where(livechat.Eq("subject", "agent0")))
	must(t, err)
	equal(t, n, int64(3))

	// Expire everything up to at(120): tok0, tok1, tok2.
	n, err = tokens.DeleteWhere(ctx, livechat.Where(livechat.Cond{Field: "expires_at", Op: livechat.OpLte, Value: at(120)}))
	must(t, err)
	equal(t, n, int64(3))
	left, err := tokens.Find(ctx, livechat.Query{})
	must(t, err)
	equal(t, tokenIDs(left), []string{"tok3", "tok4", "tok5"})

	n, err = tokens.DeleteWhere(ctx, livechat.Where(livechat.Eq("subject", "nobody")))
	must(t, err)
	equal(t, n, int64(0))

	n, err = tokens.DeleteWhere(ctx, livechat.Query{})
	must(t, err)
	equal(t, n, int64(3))
	n, err = tokens.Count(ctx, livechat.Query{})
	must(t, err)
	equal(t, n, int64(0))
}

func testClaims(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	claims := s.Claims()
	c := &livechat.Claim{ID: "close-thread:T1", Owner: "instance-a", CreatedAt: at(0), ExpiresAt: at(60)}
	must(t, claims.Insert(ctx, c))
	err := claims.Insert(ctx, &livechat.Claim{ID: c.ID, Owner: "instance-b", CreatedAt: at(1), ExpiresAt: at(61)})
	isErr(t, err, livechat.ErrConflict)
	if errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("conflict also reads as not found: %v", err)
	}
	got, err := claims.Get(ctx, c.ID)
	must(t, err)
	equal(t, got.Owner, "instance-a")

	// Racing claims of one piece of work: exactly one wins.
	const racers = 8
	errs := make(chan error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			errs <- claims.Insert(ctx, &livechat.Claim{ID: "race", Owner: fmt.Sprint("instance-", i), CreatedAt: at(0), ExpiresAt: at(60)})
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, livechat.ErrConflict):
			t.Errorf("racing claim: %v", err)
		}
	}
	equal(t, won, 1)

	// Expired claims are swept by DeleteWhere, then the work can be claimed again.
	n, err := claims.DeleteWhere(ctx, livechat.Where(livechat.Cond{Field: "expires_at", Op: livechat.OpLt, Value: at(100)}))
	must(t, err)
	equal(t, n, int64(2))
	must(t, claims.Insert(ctx, &livechat.Claim{ID: c.ID, Owner: "instance-b", CreatedAt: at(100), ExpiresAt: at(160)}))
}

func testBadQueries(t *testing.T, s livechat.Store) {
	ctx := t.Context()
	for _, q := range []livechat.Query{
		livechat.Where(livechat.Cond{Field: "x", Op: "regex", Value: "a"}),
		livechat.Where(livechat.Cond{Field: "x", Op: livechat.OpIn, Value: "not a slice"}),
		livechat.Where(livechat.Cond{Field: "x", Op: livechat.OpExists, Value: "yes"}),
		livechat.Where(livechat.Cond{Field: "$where", Op: livechat.OpEq, Value: "1"}),
		livechat.Where(livechat.Cond{Field: "", Op: livechat.OpEq, Value: "1"}),
	} {
		if _, err := s.Agents().Find(ctx, q); err == nil {
			t.Errorf("Find(%+v) succeeded", q.Where)
		}
		if _, err := s.Agents().Count(ctx, q); err == nil {
			t.Errorf("Count(%+v) succeeded", q.Where)
		}
		if _, err := s.Agents().DeleteWhere(ctx, q); err == nil {
			t.Errorf("DeleteWhere(%+v) succeeded", q.Where)
		}
	}
}

func testCanceledContext(t *testing.T, s livechat.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Agents().Get(ctx, "x")
	isErr(t, err, context.Canceled)
	if errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("canceled Get reads as not found: %v", err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// roundTrip inserts doc and checks Get returns an equal document.
func roundTrip[T any, K comparable](t *testing.T, c livechat.Collection[T, K], id K, doc *T) {
	t.Helper()
	must(t, c.Insert(t.Context(), doc))
	got, err := c.Get(t.Context(), id)
	must(t, err)
	equal(t, got, doc)
}

// base is the fixtures' epoch; at(s) is s seconds after it, in UTC with
// millisecond precision, exactly as the store returns times.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func at(sec int64) time.Time { return base.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

func fullAgent(id, account, username string) *livechat.Agent {
	return &livechat.Agent{
		ID: id, AccountID: account, Kind: livechat.AgentKindHuman, Email: id, Username: username,
		Name: "Agent " + username, Avatar: "https://example.com/" + username + ".png", Role: livechat.RoleAdministrator,
		Groups:       []livechat.GroupMembership{{ID: 0, Priority: "normal"}, {ID: 7, Priority: "first"}},
		PasswordHash: "$2a$10$hash", RoutingStatus: livechat.RoutingAccepting, MaxChats: 6,
		OwnerClientID: "client", OwnerID: "owner@example.com", Suspended: true,
		CreatedAt: at(100), UpdatedAt: at(101),
	}
}

func fullEvent() *livechat.Event {
	return &livechat.Event{
		ID: "EV1", ChatID: "CHAT1", ThreadID: "T1", CustomID: "client-1", Type: livechat.EventRichMessage,
		Visibility: livechat.VisibilityAll, AuthorID: "a@example.com", CreatedAt: at(200),
		Properties: livechat.Properties{"ns": {"count": 3, "big": 1 << 40, "flag": true, "label": "x", "ratio": 0.5, "when": at(5),
			"nested": map[string]any{"list": []any{1, "two", false}}}},
		Text:              "hello",
		Postback:          map[string]any{"id": "pb", "toggled": true, "value": "v"},
		SystemMessageType: "routing.assigned", TextVars: map[string]string{"agent": "Alice"},
		URL: "https://cdn.example.com/f.png", Name: "f.png", ContentType: "image/png", Size: 12345,
		Width: 640, Height: 480, ThumbnailURL: "https://cdn.example.com/t.png", Thumbnail2xURL: "https://cdn.example.com/t2.png",
		AlternativeText: "a picture", FormID: "form1", FormType: "prechat",
		Fields:     []any{map[string]any{"type": "name", "label": "Name", "required": true}, map[string]any{"type": "email", "answer": "c@example.com"}},
		TemplateID: "cards",
		Elements:   []any{map[string]any{"title": "Card", "buttons": []any{map[string]any{"type": "message", "text": "Yes"}}}},
		Content: map[string]any{
			"kind":     "poll",
			"elements": []any{map[string]any{"n": 1}, map[string]any{"n": 2.5}},
			"meta":     map[string]any{"ok": true, "empty": map[string]any{}},
		},
	}
}

func eventIDs(es []livechat.Event) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func chatIDs(cs []livechat.Chat) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func tokenIDs(ts []livechat.Token) []string {
	out := []string{}
	for _, tk := range ts {
		out = append(out, tk.ID)
	}
	return out
}

func groupIDs(gs []livechat.Group) []int {
	out := []int{}
	for _, g := range gs {
		out = append(out, g.ID)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one matching %v", err, target)
	}
}

func equal[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}
