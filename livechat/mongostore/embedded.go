package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ErrDataDirLocked means another process (or another Store in this one)
// already runs the embedded store on the data directory.
var ErrDataDirLocked = errors.New("data directory is locked")

// lockedError says which directory is locked and how to get past it.
type lockedError struct{ dir string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another chatbridge process (a running server?); stop it or use --mongo-uri", e.dir)
}

func (e *lockedError) Unwrap() error { return ErrDataDirLocked }

const (
	lockFileName = "chatbridge.lock"
	storeDirName = "store"
)

// newMu serializes ferretdb.New: it writes a package-level variable
// (version.Get().Package), which races when tests start several instances.
var newMu sync.Mutex

// embedded is a FerretDB running in-process on SQLite files, listening on a
// loopback port. Its goroutine is owned by the embedded value: stop cancels
// it and waits for it, so the SQLite files are closed when stop returns.
type embedded struct {
	uri    string
	lock   *dirLock
	cancel context.CancelFunc
	done   chan struct{}
}

// startEmbedded locks dataDir, then starts FerretDB on dataDir/store/.
func startEmbedded(dataDir string, log *slog.Logger) (_ *embedded, err error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("mongostore: data directory %s: %w", dataDir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mongostore: create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()

	storeDir := filepath.Join(dir, storeDirName)
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("mongostore: create store directory: %w", err)
	}
	// FerretDB wants a file: URI naming a directory, with a trailing slash;
	// building it with net/url escapes odd characters in the path.
	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(storeDir) + "/", OmitHost: true}).String()

	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(quietHandler{h: log.With("component", "ferretdb").Handler()}),
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mongostore: start embedded FerretDB in %s: %w", storeDir, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	e := &embedded{lock: lock, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		if err := f.Run(ctx); err != nil {
			log.Error("embedded FerretDB stopped", "err", err)
		}
	}()
	// The listener is bound by New, so this does not block.
	e.uri = f.MongoDBURI()
	return e, nil
}

// stop shuts FerretDB down, waits for it, then releases the directory lock.
func (e *embedded) stop() error {
	e.cancel()
	<-e.done
	return e.lock.release()
}

// quietHandler is the handler FerretDB logs through: only Warn and above,
// since it logs every connection at Info, and without the Warn-level dumps
// of every failed command's reply (a duplicate key on a claim, endSessions
// on each disconnect), which the driver returns to the caller anyway.
type quietHandler struct{ h slog.Handler }

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.h.Enabled(ctx, l)
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn || (r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, "Response ")) {
		return nil
	}
	return q.h.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h: q.h.WithAttrs(as)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h: q.h.WithGroup(name)}
}

// redact hides the password of a URI's user info, for logs and errors.
func redact(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return uri
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return uri
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
