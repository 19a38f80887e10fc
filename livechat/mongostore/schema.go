package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// index is one single-field ascending index.
type index struct {
	field  string
	unique bool
}

// schema lists every collection with its secondary indexes. On the embedded
// SQLite backend only _id lookups use an index, but unique indexes are still
// enforced there, and a real MongoDB uses all of them.
var schema = []struct {
	name    string
	indexes []index
}{
	{collOrganizations, nil},
	{collAgents, []index{{"account_id", true}, {"username", true}}},
	{collGroups, nil},
	{collCustomers, nil},
	{collChats, []index{{"customer_id", false}, {"last_thread_created_at", false}}},
	{collThreads, []index{{"chat_id", false}}},
	{collEvents, []index{{"thread_id", false}, {"chat_id", false}}},
	{collTokens, []index{{"subject", false}, {"expires_at", false}}},
	{collClaims, []index{{"expires_at", false}}},
	{collWebhooks, []index{{"action", false}}},
	{collDeliveries, []index{{"next_attempt_at", false}}},
	{collPropertyDefs, nil},
	{collTags, nil},
	{collSettings, nil},
}

// codeNamespaceExists is the server's answer to creating a collection that
// another instance created in the meantime.
const codeNamespaceExists = 48

// EnsureSchema creates the missing collections and indexes. It is idempotent
// and safe to run from several instances at once; Open calls it.
func (s *Store) EnsureSchema(ctx context.Context) error {
	existing, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mongostore: list collections: %w", err)
	}
	for _, c := range schema {
		if !slices.Contains(existing, c.name) {
			err := s.db.CreateCollection(ctx, c.name)
			var se mongo.ServerError
			if err != nil && !(errors.As(err, &se) && se.HasErrorCode(codeNamespaceExists)) {
				return fmt.Errorf("mongostore: create collection %s: %w", c.name, err)
			}
		}
		if err := s.ensureIndexes(ctx, s.db.Collection(c.name), c.indexes); err != nil {
			return err
		}
	}
	return nil
}

// ensureIndexes creates the indexes coll lacks, one per command. FerretDB
// v1.24 panics (and drops the connection) when one createIndexes command
// names two or more indexes that already exist, so existing ones are skipped
// up front and the rest are created singly; both servers treat creating an
// identical index as a no-op, which covers a concurrent start-up.
func (s *Store) ensureIndexes(ctx context.Context, coll *mongo.Collection, want []index) error {
	if len(want) == 0 {
		return nil
	}
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("mongostore: list indexes of %s: %w", coll.Name(), err)
	}
	for _, ix := range want {
		name := ix.field + "_1"
		i := slices.IndexFunc(specs, func(s mongo.IndexSpecification) bool { return s.Name == name })
		if i >= 0 {
			if u := specs[i].Unique; ix.unique && (u == nil || !*u) {
				return fmt.Errorf("mongostore: index %s on %s exists but is not unique; drop it to let chatbridge recreate it", name, coll.Name())
			}
			continue
		}
		m := mongo.IndexModel{
			Keys:    bson.D{{Key: ix.field, Value: 1}},
			Options: options.Index().SetName(name),
		}
		if ix.unique {
			m.Options.SetUnique(true)
		}
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("mongostore: create index %s on %s: %w", name, coll.Name(), err)
		}
	}
	return nil
}
