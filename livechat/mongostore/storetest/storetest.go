package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/chatbridge/chatbridge/livechat/mongostore"
)

// EnvMongoURI names the environment variable that points tests at a real
// MongoDB instead of the embedded FerretDB.
const EnvMongoURI = "CHATBRIDGE_TEST_MONGO_URI"

// closeTimeout bounds the cleanup of one test store.
const closeTimeout = 30 * time.Second

// Open returns an empty Store for one test, closed when the test ends: an
// embedded FerretDB in tb.TempDir(), or, when CHATBRIDGE_TEST_MONGO_URI is
// set, a fresh database on that server, dropped when the test ends.
func Open(tb testing.TB) *mongostore.Store {
	tb.Helper()
	cfg := mongostore.Config{
		DataDir: tb.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	uri := os.Getenv(EnvMongoURI)
	if uri != "" {
		cfg.URI = uri
		cfg.Database = DatabaseName()
	}
	s, err := mongostore.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("storetest: open store: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if uri != "" {
			if err := s.DropDatabase(ctx); err != nil {
				tb.Errorf("storetest: %v", err)
			}
		}
		if err := s.Close(ctx); err != nil {
			tb.Errorf("storetest: close store: %v", err)
		}
	})
	return s
}

// DatabaseName returns a fresh database name, valid on MongoDB and FerretDB,
// so tests sharing one server never see each other's documents.
func DatabaseName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "cbtest_" + hex.EncodeToString(b[:])
}
