package ddp

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The reflection half of the encoder: named types, structs (with
// encoding/json's field rules, cached per type), maps, slices, pointers.

func (e *encoder) reflect(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer && isSpecial(t.Elem()) {
		// *time.Time has encoding/json's MarshalJSON: take the EJSON form.
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		v, t = v.Elem(), t.Elem()
	}
	switch t {
	case timeType:
		e.date(v.Interface().(time.Time))
		return nil
	case regexpType:
		e.regexp(v.Interface().(Regexp))
		return nil
	case typedValueType:
		return e.typed(v.Interface().(TypedValue))
	case numberType:
		n := v.String()
		if n == "" {
			n = "0"
		}
		if _, err := strconv.ParseFloat(n, 64); err != nil || !json.Valid([]byte(n)) {
			return fmt.Errorf("%w: invalid json.Number %q", ErrInvalidEJSON, n)
		}
		e.buf = append(e.buf, n...)
		return nil
	}
	if t.Kind() == reflect.Pointer && v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if m, ok := asIface(v, marshalerType); ok {
		b, err := m.(json.Marshaler).MarshalJSON()
		if err != nil {
			return err
		}
		return e.raw(b, t)
	}
	if m, ok := asIface(v, textType); ok {
		b, err := m.(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		e.buf = appendString(e.buf, string(b))
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32:
		e.float(v.Float(), 32)
	case reflect.Float64:
		e.float(v.Float(), 64)
	case reflect.String:
		e.buf = appendString(e.buf, v.String())
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if v.Elem().CanInterface() {
			return e.value(v.Elem().Interface())
		}
		return e.reflect(v.Elem())
	case reflect.Pointer:
		if err := e.enter(); err != nil {
			return err
		}
		if err := e.reflect(v.Elem()); err != nil {
			return err
		}
		e.depth--
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem()) {
			e.binary(v.Bytes())
			return nil
		}
		return e.array(v)
	case reflect.Array:
		return e.array(v)
	case reflect.Map:
		return e.mapValue(v)
	case reflect.Struct:
		return e.structValue(v)
	default:
		return fmt.Errorf("%w: unsupported type %s", ErrInvalidEJSON, t)
	}
	return nil
}

func isSpecial(t reflect.Type) bool {
	return t == timeType || t == regexpType || t == typedValueType || t == numberType
}

// implements reports whether t or *t has a JSON or text marshaler.
func implements(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(marshalerType) || pt.Implements(marshalerType) || t.Implements(textType) || pt.Implements(textType)
}

// asIface returns v (or its address, when addressable and the pointer has
// the method) as iface.
func asIface(v reflect.Value, iface reflect.Type) (any, bool) {
	if v.Type().Implements(iface) && v.CanInterface() {
		return v.Interface(), true
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(v.Type()).Implements(iface) && v.Addr().CanInterface() {
		return v.Addr().Interface(), true
	}
	return nil, false
}

func (e *encoder) array(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.reflect(v.Index(i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	e.depth--
	return nil
}

func (e *encoder) mapValue(v reflect.Value) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	type kv struct {
		k string
		v reflect.Value
	}
	kvs := make([]kv, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		kvs = append(kvs, kv{k, it.Value()})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	escape := len(kvs) > 0 && len(kvs) <= 2 && specialKeys(kvs[0].k, kvs[len(kvs)-1].k, len(kvs))
	if escape {
		e.buf = append(e.buf, `{"$escape":`...)
	}
	e.buf = append(e.buf, '{')
	for i, p := range kvs {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, p.k)
		e.buf = append(e.buf, ':')
		if err := e.reflect(p.v); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	if escape {
		e.buf = append(e.buf, '}')
	}
	e.depth--
	return nil
}

// mapKey names a map key as encoding/json does: strings as they are, then
// text marshalers, then integers.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if m, ok := asIface(k, textType); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := m.(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("%w: unsupported map key type %s", ErrInvalidEJSON, k.Type())
}

func (e *encoder) structValue(v reflect.Value) error {
	info := cachedFields(v.Type())
	if err := e.enter(); err != nil {
		return err
	}
	var present []int // indexes into info.fields, only when an escape is possible
	if info.dollar {
		for i := range info.fields {
			if fv, ok := fieldValue(v, &info.fields[i]); ok && !info.fields[i].omit(fv) {
				present = append(present, i)
			}
		}
		if len(present) > 0 && len(present) <= 2 &&
			specialKeys(info.fields[present[0]].name, info.fields[present[len(present)-1]].name, len(present)) {
			e.buf = append(e.buf, `{"$escape":`...)
			defer func() { e.buf = append(e.buf, '}') }()
		}
	}
	e.buf = append(e.buf, '{')
	first := true
	for i := range info.fields {
		f := &info.fields[i]
		fv, ok := fieldValue(v, f)
		if !ok || f.omit(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, f.key...)
		if err := e.reflect(fv); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	e.depth--
	return nil
}

// fieldValue follows f's index path; false when it passes a nil embedded
// pointer.
func fieldValue(v reflect.Value, f *field) (reflect.Value, bool) {
	for n, i := range f.index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// field is one encoded struct field.
type field struct {
	name      string
	key       []byte // `"name":`
	index     []int
	tagged    bool
	omitEmpty bool
	omitZero  bool
}

func (f *field) omit(v reflect.Value) bool {
	if f.omitZero && v.IsZero() {
		return true
	}
	if !f.omitEmpty {
		return false
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type structInfo struct {
	fields []field
	dollar bool // some field name starts with "$": an escape may be needed
}

var fieldCache sync.Map // reflect.Type → *structInfo

func cachedFields(t reflect.Type) *structInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structInfo)
	}
	info := &structInfo{fields: typeFields(t)}
	for _, f := range info.fields {
		if strings.HasPrefix(f.name, "$") {
			info.dollar = true
		}
	}
	f, _ := fieldCache.LoadOrStore(t, info)
	return f.(*structInfo)
}

// typeFields lists the fields encoding/json would encode for t: exported
// fields by their tag or Go name, embedded structs' fields promoted, with
// encoding/json's rules for names that collide (shallowest wins, then the
// tagged one, else none).
func typeFields(t reflect.Type) []field {
	type item struct {
		typ   reflect.Type
		index []int
	}
	var fields []field
	next := []item{{typ: t}}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		seen := map[reflect.Type]int{}
		for _, it := range current {
			if visited[it.typ] {
				continue
			}
			visited[it.typ] = true
			for i := range it.typ.NumField() {
				sf := it.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(it.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					f := field{name: name, index: index, tagged: tagged}
					for o := range strings.SplitSeq(opts, ",") {
						switch o {
						case "omitempty":
							f.omitEmpty = true
						case "omitzero":
							f.omitZero = true
						}
					}
					f.key = append(appendString(nil, name), ':')
					fields = append(fields, f)
					continue
				}
				seen[ft]++
				if seen[ft] == 1 {
					next = append(next, item{ft, index})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}
