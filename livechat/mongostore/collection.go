package mongostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatbridge/chatbridge/livechat"
)

// collection implements livechat.Collection for documents of type T keyed by
// _id of type K. It is written once for every collection of the store.
type collection[T any, K comparable] struct {
	c *mongo.Collection
}

var _ livechat.Collection[livechat.Agent, string] = (*collection[livechat.Agent, string])(nil)

func newCollection[T any, K comparable](db *mongo.Database, name string) *collection[T, K] {
	return &collection[T, K]{c: db.Collection(name)}
}

// Insert implements livechat.Collection.
func (c *collection[T, K]) Insert(ctx context.Context, doc *T) error {
	_, err := c.c.InsertOne(ctx, doc)
	return c.wrap("insert", err)
}

// InsertMany implements livechat.Collection: one unordered insert, so the
// documents whose ids are free are stored even when others conflict.
func (c *collection[T, K]) InsertMany(ctx context.Context, docs []T) error {
	if len(docs) == 0 {
		return nil
	}
	_, err := c.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	return c.wrap("insert many", err)
}

// Replace implements livechat.Collection. doc's own _id must be id: Mongo
// refuses to change an _id.
func (c *collection[T, K]) Replace(ctx context.Context, id K, doc *T) error {
	res, err := c.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc)
	if err != nil {
		return c.wrap("replace", err)
	}
	if res.MatchedCount == 0 {
		return c.notFound(id)
	}
	return nil
}

// Get implements livechat.Collection.
func (c *collection[T, K]) Get(ctx context.Context, id K) (*T, error) {
	doc := new(T)
	err := c.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, c.notFound(id)
	}
	if err != nil {
		return nil, c.wrap("get", err)
	}
	return doc, nil
}

// Delete implements livechat.Collection.
func (c *collection[T, K]) Delete(ctx context.Context, id K) error {
	res, err := c.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return c.wrap("delete", err)
	}
	if res.DeletedCount == 0 {
		return c.notFound(id)
	}
	return nil
}

// Find implements livechat.Collection. Documents with equal sort keys come
// in _id order, so Skip and Limit page through a stable sequence.
func (c *collection[T, K]) Find(ctx context.Context, q livechat.Query) ([]T, error) {
	filter, err := toFilter(q.Where)
	if err != nil {
		return nil, c.wrap("find", err)
	}
	sortField := q.Sort
	if sortField == "" {
		sortField = "_id"
	}
	dir := 1
	if q.Desc {
		dir = -1
	}
	sort := bson.D{{Key: sortField, Value: dir}}
	if sortField != "_id" {
		sort = append(sort, bson.E{Key: "_id", Value: dir})
	}
	opts := options.Find().SetSort(sort)
	if q.Skip > 0 {
		opts.SetSkip(int64(q.Skip))
	}
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	cur, err := c.c.Find(ctx, filter, opts)
	if err != nil {
		return nil, c.wrap("find", err)
	}
	out := []T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, c.wrap("find", err)
	}
	return out, nil
}

// Count implements livechat.Collection.
func (c *collection[T, K]) Count(ctx context.Context, q livechat.Query) (int64, error) {
	filter, err := toFilter(q.Where)
	if err != nil {
		return 0, c.wrap("count", err)
	}
	n, err := c.c.CountDocuments(ctx, filter)
	if err != nil {
		return 0, c.wrap("count", err)
	}
	return n, nil
}

// DeleteWhere implements livechat.Collection.
func (c *collection[T, K]) DeleteWhere(ctx context.Context, q livechat.Query) (int64, error) {
	filter, err := toFilter(q.Where)
	if err != nil {
		return 0, c.wrap("delete", err)
	}
	res, err := c.c.DeleteMany(ctx, filter)
	if err != nil {
		return 0, c.wrap("delete", err)
	}
	return res.DeletedCount, nil
}

func (c *collection[T, K]) notFound(id K) error {
	return fmt.Errorf("%s %v: %w", c.c.Name(), id, livechat.ErrNotFound)
}

// wrap names the collection and operation, and turns a duplicate key into
// livechat.ErrConflict. Other errors stay wrapped so errors.Is still finds
// context.Canceled and context.DeadlineExceeded.
func (c *collection[T, K]) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if isDuplicateKey(err) {
		return fmt.Errorf("%s: %s: %w (%v)", c.c.Name(), op, livechat.ErrConflict, err)
	}
	return fmt.Errorf("%s: %s: %w", c.c.Name(), op, err)
}

// isDuplicateKey recognizes Mongo's duplicate-key errors, and FerretDB's
// SQLite constraint error: FerretDB maps it to a duplicate key only on
// insert, so a replace that breaks a unique index reaches us as an internal
// error naming the SQLite constraint.
func isDuplicateKey(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ops maps livechat operators to Mongo query operators.
var ops = map[livechat.Op]string{
	livechat.OpEq:     "$eq",
	livechat.OpNe:     "$ne",
	livechat.OpLt:     "$lt",
	livechat.OpLte:    "$lte",
	livechat.OpGt:     "$gt",
	livechat.OpGte:    "$gte",
	livechat.OpIn:     "$in",
	livechat.OpNin:    "$nin",
	livechat.OpExists: "$exists",
}

// toFilter translates conditions into a Mongo filter. Conditions on one
// field merge into one operator document ({f: {$gt: a, $lt: b}}); a single
// equality stays plain ({f: v}). If one field repeats an operator, the
// conditions are joined with $and instead, since a document cannot hold a
// key twice.
func toFilter(conds []livechat.Cond) (bson.D, error) {
	type field struct {
		name string
		ops  bson.D
	}
	var fields []*field
	byName := map[string]*field{}
	repeated := false
	for _, c := range conds {
		op, v, err := operand(c)
		if err != nil {
			return nil, err
		}
		f := byName[c.Field]
		if f == nil {
			f = &field{name: c.Field}
			byName[c.Field] = f
			fields = append(fields, f)
		}
		for _, e := range f.ops {
			if e.Key == op {
				repeated = true
			}
		}
		f.ops = append(f.ops, bson.E{Key: op, Value: v})
	}
	if repeated {
		and := make(bson.A, 0, len(conds))
		for _, c := range conds {
			op, v, _ := operand(c)
			and = append(and, bson.D{{Key: c.Field, Value: bson.D{{Key: op, Value: v}}}})
		}
		return bson.D{{Key: "$and", Value: and}}, nil
	}
	filter := make(bson.D, 0, len(fields))
	for _, f := range fields {
		if len(f.ops) == 1 && f.ops[0].Key == "$eq" {
			filter = append(filter, bson.E{Key: f.name, Value: f.ops[0].Value})
			continue
		}
		filter = append(filter, bson.E{Key: f.name, Value: f.ops})
	}
	return filter, nil
}

// operand checks one condition and returns its Mongo operator and value.
func operand(c livechat.Cond) (string, any, error) {
	if c.Field == "" || strings.HasPrefix(c.Field, "$") {
		return "", nil, fmt.Errorf("query: invalid field %q", c.Field)
	}
	op, ok := ops[c.Op]
	if !ok {
		return "", nil, fmt.Errorf("query: unknown operator %q on %s", c.Op, c.Field)
	}
	v := c.Value
	switch c.Op {
	case livechat.OpIn, livechat.OpNin:
		rv := reflect.ValueOf(v)
		if !rv.IsValid() || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
			return "", nil, fmt.Errorf("query: %s on %s needs a slice, got %T", c.Op, c.Field, v)
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			v = bson.A{} // a nil slice would encode as null, which $in refuses
		}
	case livechat.OpExists:
		if _, ok := v.(bool); !ok {
			return "", nil, fmt.Errorf("query: exists on %s needs a bool, got %T", c.Field, v)
		}
	}
	return op, v, nil
}
