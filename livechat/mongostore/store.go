package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatbridge/chatbridge/livechat"
)

// DefaultDatabase is the database used when Config.Database is empty.
const DefaultDatabase = "chatbridge"

// pingTimeout bounds the first round trip after connecting, so a wrong URI
// fails start-up quickly instead of after the driver's 30 s server selection.
const pingTimeout = 10 * time.Second

// Collection names.
const (
	collOrganizations = "organizations"
	collAgents        = "agents"
	collGroups        = "groups"
	collCustomers     = "customers"
	collChats         = "chats"
	collThreads       = "threads"
	collEvents        = "events"
	collTokens        = "tokens"
	collClaims        = "claims"
	collWebhooks      = "webhooks"
	collDeliveries    = "webhook_deliveries"
	collPropertyDefs  = "property_defs"
	collTags          = "tags"
	collSettings      = "settings"
)

// Config configures Open. The zero value is not usable: set URI, or DataDir
// for the embedded store.
type Config struct {
	// URI of a MongoDB (or a shared FerretDB listener). Empty means: run
	// FerretDB embedded on SQLite files in DataDir.
	URI string
	// Database name; empty means DefaultDatabase.
	Database string
	// DataDir holds the embedded store (DataDir/store/) and its lock file;
	// required when URI is empty, unused otherwise.
	DataDir string
	// Logger for the store; nil means slog.Default(). The embedded FerretDB
	// gets it at Warn and above, since it logs every connection at Info.
	Logger *slog.Logger
}

// Store is the Mongo-backed livechat.Store. Its methods are safe for
// concurrent use.
type Store struct {
	log    *slog.Logger
	uri    string
	client *mongo.Client
	db     *mongo.Database
	emb    *embedded // nil unless FerretDB runs in-process

	organizations *collection[livechat.Organization, string]
	agents        *collection[livechat.Agent, string]
	groups        *collection[livechat.Group, int]
	customers     *collection[livechat.Customer, string]
	chats         *collection[livechat.Chat, string]
	threads       *collection[livechat.Thread, string]
	events        *collection[livechat.Event, string]
	tokens        *collection[livechat.Token, string]
	claims        *collection[livechat.Claim, string]
	webhooks      *collection[livechat.Webhook, string]
	deliveries    *collection[livechat.WebhookDelivery, string]
	propertyDefs  *collection[livechat.PropertyDef, string]
	tags          *collection[livechat.Tag, string]
	settings      *collection[livechat.Setting, string]

	closeOnce sync.Once
	closeErr  error
}

var _ livechat.Store = (*Store)(nil)

// Open connects to the store cfg names (starting the embedded FerretDB when
// cfg.URI is empty), checks it answers and ensures the schema. Close the
// returned Store to release it.
func Open(ctx context.Context, cfg Config) (_ *Store, err error) {
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Store{log: cfg.Logger.With("component", "mongostore"), uri: cfg.URI}
	defer func() {
		if err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
		}
	}()

	if s.uri == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("mongostore: no Mongo URI and no data directory for the embedded store")
		}
		s.emb, err = startEmbedded(cfg.DataDir, cfg.Logger)
		if err != nil {
			return nil, err
		}
		s.uri = s.emb.uri
	}

	s.client, err = mongo.Connect(clientOptions(s.uri))
	if err != nil {
		return nil, fmt.Errorf("mongostore: connect %s: %w", redact(s.uri), err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := s.client.Ping(pctx, nil); err != nil {
		return nil, fmt.Errorf("mongostore: ping %s: %w", redact(s.uri), err)
	}

	s.db = s.client.Database(cfg.Database)
	s.organizations = newCollection[livechat.Organization, string](s.db, collOrganizations)
	s.agents = newCollection[livechat.Agent, string](s.db, collAgents)
	s.groups = newCollection[livechat.Group, int](s.db, collGroups)
	s.customers = newCollection[livechat.Customer, string](s.db, collCustomers)
	s.chats = newCollection[livechat.Chat, string](s.db, collChats)
	s.threads = newCollection[livechat.Thread, string](s.db, collThreads)
	s.events = newCollection[livechat.Event, string](s.db, collEvents)
	s.tokens = newCollection[livechat.Token, string](s.db, collTokens)
	s.claims = newCollection[livechat.Claim, string](s.db, collClaims)
	s.webhooks = newCollection[livechat.Webhook, string](s.db, collWebhooks)
	s.deliveries = newCollection[livechat.WebhookDelivery, string](s.db, collDeliveries)
	s.propertyDefs = newCollection[livechat.PropertyDef, string](s.db, collPropertyDefs)
	s.tags = newCollection[livechat.Tag, string](s.db, collTags)
	s.settings = newCollection[livechat.Setting, string](s.db, collSettings)

	if err := s.EnsureSchema(ctx); err != nil {
		return nil, err
	}
	s.log.Info("store opened", "embedded", s.emb != nil, "uri", redact(s.uri), "database", cfg.Database)
	return s, nil
}

// clientOptions makes the driver decode free-form values (`any` fields,
// Properties) as plain Go values: documents as map[string]any, arrays as
// []any, integers as int and dates as time.Time in UTC, so what the core
// stores from decoded JSON or Go literals reads back with the same types.
func clientOptions(uri string) *options.ClientOptions {
	reg := bson.NewRegistry()
	reg.RegisterTypeMapEntry(bson.TypeArray, reflect.TypeFor[[]any]())
	reg.RegisterTypeMapEntry(bson.TypeInt32, reflect.TypeFor[int]())
	reg.RegisterTypeMapEntry(bson.TypeInt64, reflect.TypeFor[int]())
	reg.RegisterTypeMapEntry(bson.TypeDateTime, reflect.TypeFor[time.Time]())
	return options.Client().
		ApplyURI(uri).
		SetAppName("chatbridge").
		SetRegistry(reg).
		SetBSONOptions(&options.BSONOptions{
			DefaultDocumentMap: true,
			BinaryAsSlice:      true,
		})
}

// URI is the effective Mongo URI: the configured one, or the loopback URI of
// the embedded FerretDB, which another Store (a test, a CLI subcommand) can
// open while this one runs.
func (s *Store) URI() string { return s.uri }

// Database is the name of the store's database.
func (s *Store) Database() string { return s.db.Name() }

// Embedded says whether the store runs FerretDB in-process.
func (s *Store) Embedded() bool { return s.emb != nil }

// Ping checks the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongostore: ping: %w", err)
	}
	return nil
}

// DropDatabase removes the store's whole database. Tests use it to clean up
// a shared MongoDB; nothing in the server calls it.
func (s *Store) DropDatabase(ctx context.Context) error {
	if err := s.db.Drop(ctx); err != nil {
		return fmt.Errorf("mongostore: drop database %s: %w", s.db.Name(), err)
	}
	return nil
}

// Close disconnects the client, stops the embedded FerretDB (waiting for it
// to flush its files) and releases the data-directory lock. It is safe to
// call more than once; later calls return the first call's result. FerretDB
// gives clients still connected by URI (other Stores, other processes) up to
// 3 s to leave before it drops them, so close those first.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.client != nil {
			if err := s.client.Disconnect(ctx); err != nil {
				errs = append(errs, fmt.Errorf("mongostore: disconnect: %w", err))
			}
		}
		if s.emb != nil {
			if err := s.emb.stop(); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Organizations implements livechat.Store.
func (s *Store) Organizations() livechat.Collection[livechat.Organization, string] {
	return s.organizations
}

// Agents implements livechat.Store.
func (s *Store) Agents() livechat.Collection[livechat.Agent, string] { return s.agents }

// Groups implements livechat.Store.
func (s *Store) Groups() livechat.Collection[livechat.Group, int] { return s.groups }

// Customers implements livechat.Store.
func (s *Store) Customers() livechat.Collection[livechat.Customer, string] { return s.customers }

// Chats implements livechat.Store.
func (s *Store) Chats() livechat.Collection[livechat.Chat, string] { return s.chats }

// Threads implements livechat.Store.
func (s *Store) Threads() livechat.Collection[livechat.Thread, string] { return s.threads }

// Events implements livechat.Store.
func (s *Store) Events() livechat.Collection[livechat.Event, string] { return s.events }

// Tokens implements livechat.Store.
func (s *Store) Tokens() livechat.Collection[livechat.Token, string] { return s.tokens }

// Claims implements livechat.Store.
func (s *Store) Claims() livechat.Collection[livechat.Claim, string] { return s.claims }

// Webhooks implements livechat.Store.
func (s *Store) Webhooks() livechat.Collection[livechat.Webhook, string] { return s.webhooks }

// Deliveries implements livechat.Store.
func (s *Store) Deliveries() livechat.Collection[livechat.WebhookDelivery, string] {
	return s.deliveries
}

// PropertyDefs implements livechat.Store.
func (s *Store) PropertyDefs() livechat.Collection[livechat.PropertyDef, string] {
	return s.propertyDefs
}

// Tags implements livechat.Store.
func (s *Store) Tags() livechat.Collection[livechat.Tag, string] { return s.tags }

// Settings implements livechat.Store.
func (s *Store) Settings() livechat.Collection[livechat.Setting, string] { return s.settings }
