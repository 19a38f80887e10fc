package livechat

import (
	"context"
	"errors"
	"time"
)

// Typed store errors. Store implementations wrap driver errors into these so
// the core never sees a driver type.
var (
	// ErrNotFound means no document has the requested id (or matches the query).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a document with the same unique key already exists.
	ErrConflict = errors.New("conflict")
)

// Op is a comparison operator in a Cond.
type Op string

// Operators understood by every store.
const (
	OpEq     Op = "eq"     // field == value
	OpNe     Op = "ne"     // field != value
	OpLt     Op = "lt"     // field < value
	OpLte    Op = "lte"    // field <= value
	OpGt     Op = "gt"     // field > value
	OpGte    Op = "gte"    // field >= value
	OpIn     Op = "in"     // field (or one of its array elements) is in value (a slice)
	OpNin    Op = "nin"    // field is not in value (a slice)
	OpExists Op = "exists" // field exists == value (a bool)
)

// Cond is one condition on a stored field, named by its storage (bson) name;
// dotted paths reach into sub-documents.
type Cond struct {
	Field string
	Op    Op
	Value any
}

// Query selects documents: all conditions must hold. Sort names a field; an
// empty Sort means by _id. Limit 0 means no limit.
type Query struct {
	Where []Cond
	Sort  string
	Desc  bool
	Skip  int
	Limit int
}

// Where starts a Query from conditions.
func Where(conds ...Cond) Query { return Query{Where: conds} }

// Eq is shorthand for an equality condition.
func Eq(field string, v any) Cond { return Cond{Field: field, Op: OpEq, Value: v} }

// Collection is a typed set of documents keyed by K. Writes replace whole
// documents: the embedded store has no compare-and-swap, so callers order the
// writes of one document inside the process (see Locks) and claim shared
// work across instances with Insert, which fails with ErrConflict on a
// duplicate id.
type Collection[T any, K comparable] interface {
	// Insert stores a new document; ErrConflict if its id or a unique key exists.
	Insert(ctx context.Context, doc *T) error
	// InsertMany stores new documents in one round trip; the ones whose id
	// or unique key is free are stored even when others conflict, which is
	// then ErrConflict.
	InsertMany(ctx context.Context, docs []T) error
	// Replace overwrites the document with id; ErrNotFound if it does not exist.
	Replace(ctx context.Context, id K, doc *T) error
	// Get reads the document with id; ErrNotFound if it does not exist.
	Get(ctx context.Context, id K) (*T, error)
	// Delete removes the document with id; ErrNotFound if it does not exist.
	Delete(ctx context.Context, id K) error
	// Find returns the documents matching q, in q's order.
	Find(ctx context.Context, q Query) ([]T, error)
	// Count returns how many documents match q (Sort, Skip and Limit ignored).
	Count(ctx context.Context, q Query) (int64, error)
	// DeleteWhere removes every document matching q and says how many it removed.
	DeleteWhere(ctx context.Context, q Query) (int64, error)
}

// Claim records that one instance took a piece of shared work (closing a
// thread, delivering a webhook). Its id names the work, so a second claim of
// the same work fails with ErrConflict.
type Claim struct {
	ID        string    `bson:"_id" json:"id"`
	Owner     string    `bson:"owner" json:"owner"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	ExpiresAt time.Time `bson:"expires_at" json:"expires_at"`
}

// Store is everything the core keeps. Only livechat/mongostore implements it.
type Store interface {
	Organizations() Collection[Organization, string]
	Agents() Collection[Agent, string]
	Groups() Collection[Group, int]
	Customers() Collection[Customer, string]
	Chats() Collection[Chat, string]
	Threads() Collection[Thread, string]
	Events() Collection[Event, string]
	Tokens() Collection[Token, string]
	Claims() Collection[Claim, string]
	Webhooks() Collection[Webhook, string]
	Deliveries() Collection[WebhookDelivery, string]
	PropertyDefs() Collection[PropertyDef, string]
	Tags() Collection[Tag, string]
	Settings() Collection[Setting, string]
	// Ping checks the store answers.
	Ping(ctx context.Context) error
	// Close releases the store; it is safe to call more than once.
	Close(ctx context.Context) error
}
