package livechat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Property definitions (register_property and friends) and the checks every
// property write goes through, whatever API carries it.
//
// A property that has a definition (the built-in `test` namespace, or one
// registered with register_property) is checked on every write: its value
// must have the definition's type and lie in its domain or range
// (validation), the definition must offer the location written (chat,
// thread, event, group, license; validation), and the writer's user type
// must have write access there (authorization). A private definition (not
// published for write) is writable only through credentials of its owner
// client id. The system actor skips the access checks, not the type checks.
//
// A property with no definition is LiveChat's "unregistered property", which
// LiveChat rejects. chatbridge rejects it too (validation) when
// Config.StrictProperties is set, or when its namespace holds registered
// definitions (an application that registers its properties gets LiveChat's
// strictness for its own namespace). Otherwise, in a namespace nobody
// registered and in the `test` sandbox, it is accepted as a free-form value
// (only its shape is checked): that keeps integrations that predate the
// Configuration API working.
//
// Deleting a property needs write access when it has a definition; values
// without one can always be deleted by whoever may change the object.

// Property locations.
const (
	PropertyLocationChat    = "chat"
	PropertyLocationThread  = "thread"
	PropertyLocationEvent   = "event"
	PropertyLocationGroup   = "group"
	PropertyLocationLicense = "license"
)

// PropertyLocations lists the locations a definition may name.
var PropertyLocations = []string{PropertyLocationChat, PropertyLocationThread, PropertyLocationEvent, PropertyLocationGroup, PropertyLocationLicense}

// Property types.
const (
	PropertyInt             = "int"
	PropertyBool            = "bool"
	PropertyString          = "string"
	PropertyTokenizedString = "tokenized_string"
)

// PropertyTypes lists the property types.
var PropertyTypes = []string{PropertyInt, PropertyBool, PropertyString, PropertyTokenizedString}

// Property access rights.
const (
	PropertyRead  = "read"
	PropertyWrite = "write"
)

// TestNamespace is the namespace every organization has, with rw-everywhere
// properties of each type.
const TestNamespace = "test"

// PropertyAccess is a definition's access: location → user type (agent,
// customer) → rights (read, write).
type PropertyAccess map[string]map[string][]string

// PropertyRange bounds an int property, both ends included.
type PropertyRange struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// PropertyDefinition is a typed property definition.
type PropertyDefinition struct {
	OwnerClientID string
	Name          string
	Type          string
	Access        PropertyAccess
	Description   string
	Domain        []any
	Range         *PropertyRange
	DefaultValue  any
	// PublicAccess is what publish_property opened to every client.
	PublicAccess []string
}

// Key is the definition's store id.
func (d *PropertyDefinition) Key() string { return propertyKey(d.OwnerClientID, d.Name) }

func propertyKey(owner, name string) string { return owner + ":" + name }

var propertyNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

var builtinProperties = func() map[string]*PropertyDefinition {
	rw := []string{PropertyRead, PropertyWrite}
	access := PropertyAccess{}
	for _, loc := range PropertyLocations {
		access[loc] = map[string][]string{UserAgent: rw, UserCustomer: rw}
	}
	out := map[string]*PropertyDefinition{}
	for name, typ := range map[string]string{"bool_property": PropertyBool, "int_property": PropertyInt,
		"string_property": PropertyString, "tokenized_string_property": PropertyTokenizedString} {
		out[name] = &PropertyDefinition{OwnerClientID: TestNamespace, Name: name, Type: typ, Access: access, PublicAccess: rw,
			Description: "Built-in " + typ + " property of the test namespace"}
	}
	return out
}()

// toDef and fromDef convert between the typed and the stored form.
func (d *PropertyDefinition) toDef() *PropertyDef {
	access := map[string]any{}
	for loc, users := range d.Access {
		m := map[string]any{}
		for u, rights := range users {
			m[u] = toAnySlice(rights)
		}
		access[loc] = m
	}
	out := &PropertyDef{ID: d.Key(), OwnerClientID: d.OwnerClientID, Name: d.Name, Type: d.Type, Access: access,
		Description: d.Description, Domain: d.Domain, DefaultValue: d.DefaultValue,
		Public: len(d.PublicAccess) > 0, PublicAccess: d.PublicAccess}
	if d.Range != nil {
		out.Range = map[string]any{"from": d.Range.From, "to": d.Range.To}
	}
	return out
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func fromDef(p *PropertyDef) *PropertyDefinition {
	d := &PropertyDefinition{OwnerClientID: p.OwnerClientID, Name: p.Name, Type: p.Type, Access: PropertyAccess{},
		Description: p.Description, Domain: p.Domain, DefaultValue: p.DefaultValue, PublicAccess: p.PublicAccess}
	for loc, users := range p.Access {
		um, _ := users.(map[string]any)
		d.Access[loc] = map[string][]string{}
		for u, rights := range um {
			list, _ := rights.([]any)
			for _, r := range list {
				if s, ok := r.(string); ok {
					d.Access[loc][u] = append(d.Access[loc][u], s)
				}
			}
		}
	}
	if p.Range != nil {
		from, _ := numberOf(p.Range["from"])
		to, _ := numberOf(p.Range["to"])
		d.Range = &PropertyRange{From: int64(from), To: int64(to)}
	}
	return d
}

// numberOf reads a JSON or Go number.
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// checkValue checks v against the definition's type, domain and range.
func (d *PropertyDefinition) checkValue(v any) error {
	bad := func(why string) error {
		return Errorf(TypeValidation, "property %s.%s %s", d.OwnerClientID, d.Name, why)
	}
	switch d.Type {
	case PropertyInt:
		n, ok := numberOf(v)
		if !ok || n != math.Trunc(n) || n < math.MinInt32 || n > math.MaxInt32 {
			return bad("must be a 32-bit integer")
		}
		if d.Range != nil && (n < float64(d.Range.From) || n > float64(d.Range.To)) {
			return bad(fmt.Sprintf("must be in the range %d to %d", d.Range.From, d.Range.To))
		}
	case PropertyBool:
		if _, ok := v.(bool); !ok {
			return bad("must be a boolean")
		}
	case PropertyString, PropertyTokenizedString:
		if _, ok := v.(string); !ok {
			return bad("must be a string")
		}
	}
	if len(d.Domain) > 0 && !slices.ContainsFunc(d.Domain, func(x any) bool { return samePropertyValue(x, v) }) {
		return bad("is not in its domain")
	}
	return nil
}

func samePropertyValue(a, b any) bool {
	if x, ok := numberOf(a); ok {
		y, ok := numberOf(b)
		return ok && x == y
	}
	return a == b
}

// offers says whether the definition has the location at all.
func (d *PropertyDefinition) offers(loc string) bool {
	_, ok := d.Access[loc]
	return ok
}

// canWrite says whether actor may write the property at loc.
func (d *PropertyDefinition) canWrite(actor Actor, loc string) bool {
	if actor.IsSystem() {
		return true
	}
	if !slices.Contains(d.Access[loc][actor.UserType()], PropertyWrite) {
		return false
	}
	return actor.ClientID == d.OwnerClientID || slices.Contains(d.PublicAccess, PropertyWrite)
}

// propertyDefs returns the definitions of the namespaces, built-in ones included.
func (s *Service) propertyDefs(ctx context.Context, namespaces []string) (map[string]map[string]*PropertyDefinition, error) {
	out := map[string]map[string]*PropertyDefinition{}
	var stored []string
	for _, ns := range namespaces {
		if ns == TestNamespace {
			out[ns] = builtinProperties
		} else {
			stored = append(stored, ns)
		}
	}
	if len(stored) == 0 {
		return out, nil
	}
	q := Where(Cond{Field: "owner_client_id", Op: OpIn, Value: stored})
	if len(stored) == 1 {
		q = Where(Eq("owner_client_id", stored[0]))
	}
	defs, err := s.store.PropertyDefs().Find(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range defs {
		d := fromDef(&defs[i])
		if out[d.OwnerClientID] == nil {
			out[d.OwnerClientID] = map[string]*PropertyDefinition{}
		}
		out[d.OwnerClientID][d.Name] = d
	}
	return out, nil
}

// definitionFor finds the definition of ns.name, or says the property is
// refused for want of one (nil, nil means a free-form value).
func (s *Service) definitionFor(defs map[string]map[string]*PropertyDefinition, ns, name string) (*PropertyDefinition, error) {
	if d := defs[ns][name]; d != nil {
		return d, nil
	}
	if s.cfg.StrictProperties || (len(defs[ns]) > 0 && ns != TestNamespace) {
		return nil, Errorf(TypeValidation, "property %s.%s is not registered", ns, name)
	}
	return nil, nil
}

// checkPropertyWrite checks props written at loc by actor (see the rules at the top).
func (s *Service) checkPropertyWrite(ctx context.Context, actor Actor, loc string, props Properties) error {
	if len(props) == 0 {
		return nil
	}
	defs, err := s.propertyDefs(ctx, slices.Collect(maps.Keys(props)))
	if err != nil {
		return err
	}
	for ns, vals := range props {
		for name, v := range vals {
			d, err := s.definitionFor(defs, ns, name)
			if err != nil || d == nil {
				return err
			}
			if !d.offers(loc) {
				return Errorf(TypeValidation, "property %s.%s cannot be set on a %s", ns, name, loc)
			}
			if err := d.checkValue(v); err != nil {
				return err
			}
			if !d.canWrite(actor, loc) {
				return Errorf(TypeAuthorization, "No write access to property %s.%s of a %s", ns, name, loc)
			}
		}
	}
	return nil
}

// checkPropertyDelete checks that actor may delete the named properties at loc.
func (s *Service) checkPropertyDelete(ctx context.Context, actor Actor, loc string, del map[string][]string) error {
	defs, err := s.propertyDefs(ctx, slices.Collect(maps.Keys(del)))
	if err != nil {
		return err
	}
	for ns, names := range del {
		for _, name := range names {
			if d := defs[ns][name]; d != nil && d.offers(loc) && !d.canWrite(actor, loc) {
				return Errorf(TypeAuthorization, "No write access to property %s.%s of a %s", ns, name, loc)
			}
		}
	}
	return nil
}

// location names the target's property location.
func (t PropertyTarget) location() string {
	switch {
	case t.EventID != "":
		return PropertyLocationEvent
	case t.ThreadID != "":
		return PropertyLocationThread
	}
	return PropertyLocationChat
}

func (s *Service) validateDefinition(d *PropertyDefinition) error {
	if !propertyNameRe.MatchString(d.Name) {
		return Errorf(TypeValidation, "name must be 1 to 64 letters, digits, '_', '.' or '-'")
	}
	if err := validateOwner(d.OwnerClientID); err != nil {
		return err
	}
	if !slices.Contains(PropertyTypes, d.Type) {
		return Errorf(TypeValidation, "type must be one of %s", strings.Join(PropertyTypes, ", "))
	}
	if len(d.Access) == 0 {
		return Errorf(TypeValidation, "access needs at least one location")
	}
	for loc, users := range d.Access {
		if !slices.Contains(PropertyLocations, loc) {
			return Errorf(TypeValidation, "access: unknown location %q", loc)
		}
		for u, rights := range users {
			if u != UserAgent && u != UserCustomer {
				return Errorf(TypeValidation, "access.%s: user type must be agent or customer", loc)
			}
			if err := checkEnum("access."+loc+"."+u, rights, []string{PropertyRead, PropertyWrite}); err != nil {
				return err
			}
		}
	}
	if len(d.Description) > 1024 {
		return Errorf(TypeValidation, "description is too long")
	}
	if len(d.Domain) > 0 && d.Range != nil {
		return Errorf(TypeValidation, "domain and range cannot both be given")
	}
	if len(d.Domain) > 500 {
		return Errorf(TypeValidation, "domain holds at most 500 values")
	}
	if d.Range != nil {
		if d.Type != PropertyInt {
			return Errorf(TypeValidation, "range is for int properties only")
		}
		if d.Range.From > d.Range.To || d.Range.From < math.MinInt32 || d.Range.To > math.MaxInt32 {
			return Errorf(TypeValidation, "range must go from a lower to a higher 32-bit integer")
		}
	}
	plain := *d
	plain.Domain, plain.Range = nil, nil
	for _, v := range d.Domain {
		if err := plain.checkValue(v); err != nil {
			return Errorf(TypeValidation, "domain values must have the property's type")
		}
	}
	if d.DefaultValue != nil {
		if !d.offers(PropertyLocationLicense) && !d.offers(PropertyLocationGroup) {
			return Errorf(TypeValidation, "default_value is for license and group properties only")
		}
		if err := d.checkValue(d.DefaultValue); err != nil {
			return err
		}
	}
	return nil
}

func validateOwner(owner string) error {
	if !propertyNameRe.MatchString(owner) {
		return Errorf(TypeValidation, "owner_client_id must be 1 to 64 letters, digits, '_', '.' or '-'")
	}
	return nil
}

func managersOnly(actor Actor, what string) error {
	if !actor.IsManager() {
		return Errorf(TypeAuthorization, "Only owners and administrators can %s", what)
	}
	return nil
}

// RegisterProperty registers a property definition (register_property).
// Managers only; the test namespace is reserved.
func (s *Service) RegisterProperty(ctx context.Context, actor Actor, d PropertyDefinition) error {
	if err := managersOnly(actor, "register properties"); err != nil {
		return err
	}
	if err := s.validateDefinition(&d); err != nil {
		return err
	}
	if d.OwnerClientID == TestNamespace {
		return Errorf(TypeValidation, "the test namespace is built in")
	}
	d.PublicAccess = nil
	def := d.toDef()
	def.CreatedAt = s.now()
	if err := s.store.PropertyDefs().Insert(ctx, def); err != nil {
		if errors.Is(err, ErrConflict) {
			return Errorf(TypeAlreadyExists, "Property %s.%s is already registered", d.OwnerClientID, d.Name)
		}
		return err
	}
	return nil
}

func (s *Service) storedDefinition(ctx context.Context, owner, name string) (*PropertyDef, error) {
	if err := validateOwner(owner); err != nil {
		return nil, err
	}
	if owner == TestNamespace {
		return nil, Errorf(TypeValidation, "the test namespace is built in")
	}
	p, err := s.store.PropertyDefs().Get(ctx, propertyKey(owner, name))
	if err != nil {
		return nil, storeErr(err, "Property")
	}
	return p, nil
}

// UnregisterProperty removes a private definition (unregister_property);
// published ones stay. Values already set stay, as free-form values.
// Managers only.
func (s *Service) UnregisterProperty(ctx context.Context, actor Actor, owner, name string) error {
	if err := managersOnly(actor, "unregister properties"); err != nil {
		return err
	}
	p, err := s.storedDefinition(ctx, owner, name)
	if err != nil {
		return err
	}
	if p.Public {
		return Errorf(TypeValidation, "Published properties cannot be unregistered")
	}
	return storeErr(s.store.PropertyDefs().Delete(ctx, p.ID), "Property")
}

// PublishProperty opens a definition to every client for the given rights
// (publish_property). Managers only.
func (s *Service) PublishProperty(ctx context.Context, actor Actor, owner, name string, rights []string) error {
	if err := managersOnly(actor, "publish properties"); err != nil {
		return err
	}
	if len(rights) == 0 {
		return Errorf(TypeValidation, "access_type needs read, write or both")
	}
	if err := checkEnum("access_type", rights, []string{PropertyRead, PropertyWrite}); err != nil {
		return err
	}
	defer s.locks.lock("property:" + propertyKey(owner, name))()
	p, err := s.storedDefinition(ctx, owner, name)
	if err != nil {
		return err
	}
	for _, r := range rights {
		if !slices.Contains(p.PublicAccess, r) {
			p.PublicAccess = append(p.PublicAccess, r)
		}
	}
	slices.Sort(p.PublicAccess)
	p.Public = true
	return s.store.PropertyDefs().Replace(ctx, p.ID, p)
}

// ListPropertyDefinitions lists a namespace's definitions by name
// (list_properties). Agents only.
func (s *Service) ListPropertyDefinitions(ctx context.Context, actor Actor, owner string) ([]*PropertyDefinition, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list properties")
	}
	if err := validateOwner(owner); err != nil {
		return nil, err
	}
	defs, err := s.propertyDefs(ctx, []string{owner})
	if err != nil {
		return nil, err
	}
	out := slices.Collect(maps.Values(defs[owner]))
	slices.SortFunc(out, func(a, b *PropertyDefinition) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// License and group property values, kept as Settings.

const licensePropertiesKey = "license_properties"

func groupPropertiesKey(id int) string { return "group_properties:" + strconv.Itoa(id) }

func (s *Service) loadPropertyValues(ctx context.Context, key string) (Properties, error) {
	st, err := s.store.Settings().Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return Properties{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := Properties{}
	m, _ := st.Value.(map[string]any)
	for ns, vals := range m {
		if vm, ok := vals.(map[string]any); ok {
			out[ns] = vm
		}
	}
	return out, nil
}

// checkValuesWrite checks license or group values a manager writes: the
// type, domain and location rules apply; the per-user-type access does not
// (the Configuration API's property value scopes stand for it).
func (s *Service) checkValuesWrite(ctx context.Context, loc string, props Properties) error {
	if err := validateProperties(props); err != nil {
		return err
	}
	defs, err := s.propertyDefs(ctx, slices.Collect(maps.Keys(props)))
	if err != nil {
		return err
	}
	for ns, vals := range props {
		for name, v := range vals {
			d, err := s.definitionFor(defs, ns, name)
			if err != nil || d == nil {
				if err != nil {
					return err
				}
				continue
			}
			if !d.offers(loc) {
				return Errorf(TypeValidation, "property %s.%s cannot be set on a %s", ns, name, loc)
			}
			if err := d.checkValue(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) changeValues(ctx context.Context, key string, change func(Properties)) error {
	defer s.locks.lock("setting:" + key)()
	p, err := s.loadPropertyValues(ctx, key)
	if err != nil {
		return err
	}
	change(p)
	m := map[string]any{}
	for ns, vals := range p {
		if len(vals) > 0 {
			m[ns] = vals
		}
	}
	return s.putSetting(ctx, key, m)
}

// UpdateLicenseProperties merges values into the license properties
// (update_license_properties). Managers only.
func (s *Service) UpdateLicenseProperties(ctx context.Context, actor Actor, props Properties) error {
	if err := managersOnly(actor, "change license properties"); err != nil {
		return err
	}
	if len(props) == 0 {
		return Errorf(TypeValidation, "properties are required")
	}
	if err := s.checkValuesWrite(ctx, PropertyLocationLicense, props); err != nil {
		return err
	}
	return s.changeValues(ctx, licensePropertiesKey, func(p Properties) { mergeProperties(p, props) })
}

// DeleteLicenseProperties removes license property values (names not set are
// ignored); defaults show again. Managers only.
func (s *Service) DeleteLicenseProperties(ctx context.Context, actor Actor, del map[string][]string) error {
	if err := managersOnly(actor, "change license properties"); err != nil {
		return err
	}
	if len(del) == 0 {
		return Errorf(TypeValidation, "properties are required")
	}
	return s.changeValues(ctx, licensePropertiesKey, func(p Properties) { dropValues(p, del) })
}

func dropValues(p Properties, del map[string][]string) {
	for ns, names := range del {
		for _, n := range names {
			delete(p[ns], n)
		}
	}
}

// withDefaults adds the default values of definitions at loc that props
// does not set, then keeps namespace and names with prefix.
func (s *Service) withDefaults(ctx context.Context, loc string, props Properties, namespace, prefix string) (Properties, error) {
	defs, err := s.store.PropertyDefs().Find(ctx, Query{})
	if err != nil {
		return nil, err
	}
	for i := range defs {
		d := fromDef(&defs[i])
		if d.DefaultValue == nil || !d.offers(loc) {
			continue
		}
		if _, set := props[d.OwnerClientID][d.Name]; set {
			continue
		}
		if props[d.OwnerClientID] == nil {
			props[d.OwnerClientID] = map[string]any{}
		}
		props[d.OwnerClientID][d.Name] = d.DefaultValue
	}
	out := Properties{}
	for ns, vals := range props {
		if namespace != "" && ns != namespace {
			continue
		}
		for name, v := range vals {
			if strings.HasPrefix(name, prefix) {
				if out[ns] == nil {
					out[ns] = map[string]any{}
				}
				out[ns][name] = v
			}
		}
	}
	return out, nil
}

// ListLicenseProperties returns the license properties with defaults
// (list_license_properties), of one namespace and name prefix when given.
// Agents and the system.
func (s *Service) ListLicenseProperties(ctx context.Context, actor Actor, namespace, prefix string) (Properties, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list license properties")
	}
	p, err := s.loadPropertyValues(ctx, licensePropertiesKey)
	if err != nil {
		return nil, err
	}
	return s.withDefaults(ctx, PropertyLocationLicense, p, namespace, prefix)
}

func (s *Service) groupExists(ctx context.Context, id int) error {
	if _, err := s.store.Groups().Get(ctx, id); err != nil {
		return groupErr(err)
	}
	return nil
}

// UpdateGroupProperties merges values into a group's properties
// (update_group_properties). Managers only.
func (s *Service) UpdateGroupProperties(ctx context.Context, actor Actor, groupID int, props Properties) error {
	if err := managersOnly(actor, "change group properties"); err != nil {
		return err
	}
	if len(props) == 0 {
		return Errorf(TypeValidation, "properties are required")
	}
	if err := s.groupExists(ctx, groupID); err != nil {
		return err
	}
	if err := s.checkValuesWrite(ctx, PropertyLocationGroup, props); err != nil {
		return err
	}
	return s.changeValues(ctx, groupPropertiesKey(groupID), func(p Properties) { mergeProperties(p, props) })
}

// DeleteGroupProperties removes a group's property values (names not set
// are ignored). Managers only.
func (s *Service) DeleteGroupProperties(ctx context.Context, actor Actor, groupID int, del map[string][]string) error {
	if err := managersOnly(actor, "change group properties"); err != nil {
		return err
	}
	if len(del) == 0 {
		return Errorf(TypeValidation, "properties are required")
	}
	if err := s.groupExists(ctx, groupID); err != nil {
		return err
	}
	return s.changeValues(ctx, groupPropertiesKey(groupID), func(p Properties) { dropValues(p, del) })
}

// ListGroupProperties returns a group's properties with defaults
// (list_group_properties; one namespace and name prefix when given).
// Agents and the system.
func (s *Service) ListGroupProperties(ctx context.Context, actor Actor, groupID int, namespace, prefix string) (Properties, error) {
	if !actor.IsAgent() && !actor.IsSystem() {
		return nil, Errorf(TypeAuthorization, "Only agents can list group properties")
	}
	if err := s.groupExists(ctx, groupID); err != nil {
		return nil, err
	}
	p, err := s.loadPropertyValues(ctx, groupPropertiesKey(groupID))
	if err != nil {
		return nil, err
	}
	return s.withDefaults(ctx, PropertyLocationGroup, p, namespace, prefix)
}
