package ddp

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// EJSON (Meteor's extended JSON) carries the values plain JSON cannot in the
// `params`, `result` and `fields` of DDP messages:
//
//	Go value                     wire form
//	time.Time                    {"$date": <ms since the epoch>}
//	[]byte                       {"$binary": "<standard base64>"}
//	float NaN, +Inf, -Inf        {"$InfNaN": 0 | 1 | -1}
//	Regexp                       {"$regexp": "<source>", "$flags": "<flags>"}
//	TypedValue                   {"$type": "<name>", "$value": <json>}
//	object that looks like one   {"$escape": {...}} (one level, on encode)
//	of the forms above
//
// The decoder recognises a form only when the object has exactly its keys
// (one key for $date, $binary, $InfNaN and $escape; two for $regexp+$flags
// and $type+$value); other objects are plain.

// Regexp is an EJSON regular expression; ddp never compiles it.
type Regexp struct {
	Source string `json:"$regexp"`
	Flags  string `json:"$flags"`
}

// TypedValue is an EJSON custom-type value. Only the types Meteor clients
// commonly send are accepted on decode (see KnownEJSONTypes); any Type is
// encoded.
type TypedValue struct {
	Type  string          `json:"$type"`
	Value json.RawMessage `json:"$value"`
}

// KnownEJSONTypes reports whether name is a custom type the decoder accepts:
// "oid" (a Mongo ObjectID, a 24-hex-digit string). Meteor rejects unknown
// custom types, and so does this decoder.
func KnownEJSONTypes(name string) bool { return name == "oid" }

// maxEJSONDepth bounds nesting on encode (cyclic values) as encoding/json's
// parser bounds it on decode.
const maxEJSONDepth = 1000

// ErrInvalidEJSON is wrapped by every EJSON error that is not a JSON syntax
// or Go type error: a malformed special form on decode, an unsupported
// value on encode.
var ErrInvalidEJSON = errors.New("ddp: invalid EJSON")

// EncodeEJSON returns the EJSON encoding of v. Go values map as
// encoding/json maps them (struct tags, omitempty, omitzero, embedded
// structs, json.Marshaler, encoding.TextMarshaler, sorted map keys), except
// that time.Time, []byte, NaN and infinities take their EJSON forms and
// objects that would read back as a special form are $escape'd.
// json.RawMessage and other json.Marshaler output is taken as already EJSON.
func EncodeEJSON(v any) ([]byte, error) { return AppendEJSON(nil, v) }

// AppendEJSON appends the EJSON encoding of v to dst. On error dst is
// returned unchanged.
func AppendEJSON(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.value(v); err != nil {
		return dst, err
	}
	return e.buf, nil
}

type encoder struct {
	buf   []byte
	depth int
}

var (
	timeType       = reflect.TypeFor[time.Time]()
	regexpType     = reflect.TypeFor[Regexp]()
	typedValueType = reflect.TypeFor[TypedValue]()
	numberType     = reflect.TypeFor[json.Number]()
	marshalerType  = reflect.TypeFor[json.Marshaler]()
	textType       = reflect.TypeFor[encoding.TextMarshaler]()
)

// value encodes the common dynamic types without reflection.
func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case float64:
		e.float(x, 64)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case time.Time:
		e.date(x)
	case *time.Time:
		if x == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.date(*x)
		}
	case []byte:
		e.binary(x)
	case json.RawMessage:
		return e.raw(x, nil)
	case Regexp:
		e.regexp(x)
	case TypedValue:
		return e.typed(x)
	case map[string]any:
		return e.mapStringAny(x)
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
		e.depth--
	case []string:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, s := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, s)
		}
		e.buf = append(e.buf, ']')
	default:
		return e.reflect(reflect.ValueOf(v))
	}
	return nil
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > maxEJSONDepth {
		return fmt.Errorf("%w: nesting deeper than %d (cyclic value?)", ErrInvalidEJSON, maxEJSONDepth)
	}
	return nil
}

func (e *encoder) date(t time.Time) {
	e.buf = append(e.buf, `{"$date":`...)
	e.buf = strconv.AppendInt(e.buf, t.UnixMilli(), 10)
	e.buf = append(e.buf, '}')
}

func (e *encoder) binary(b []byte) {
	if b == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, `{"$binary":"`...)
	e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
	e.buf = append(e.buf, `"}`...)
}

func (e *encoder) regexp(r Regexp) {
	e.buf = append(e.buf, `{"$regexp":`...)
	e.buf = appendString(e.buf, r.Source)
	e.buf = append(e.buf, `,"$flags":`...)
	e.buf = appendString(e.buf, r.Flags)
	e.buf = append(e.buf, '}')
}

func (e *encoder) typed(t TypedValue) error {
	e.buf = append(e.buf, `{"$type":`...)
	e.buf = appendString(e.buf, t.Type)
	e.buf = append(e.buf, `,"$value":`...)
	if err := e.raw(t.Value, nil); err != nil {
		return err
	}
	e.buf = append(e.buf, '}')
	return nil
}

// raw appends already-encoded JSON after checking it is valid, so a broken
// marshaler cannot corrupt a frame.
func (e *encoder) raw(b []byte, t reflect.Type) error {
	if b == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if !json.Valid(b) {
		if t != nil {
			return fmt.Errorf("%w: %s.MarshalJSON returned invalid JSON", ErrInvalidEJSON, t)
		}
		return fmt.Errorf("%w: raw message is not valid JSON", ErrInvalidEJSON)
	}
	e.buf = append(e.buf, b...)
	return nil
}

func (e *encoder) float(f float64, bits int) {
	switch {
	case math.IsNaN(f):
		e.buf = append(e.buf, `{"$InfNaN":0}`...)
		return
	case math.IsInf(f, 1):
		e.buf = append(e.buf, `{"$InfNaN":1}`...)
		return
	case math.IsInf(f, -1):
		e.buf = append(e.buf, `{"$InfNaN":-1}`...)
		return
	}
	// The format encoding/json (and ES6) uses: exponent only for very
	// large or small magnitudes.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(e.buf)
		if n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
}

// specialKeys reports whether an object with exactly these keys would be
// read back as an EJSON special form, so the encoder must $escape it.
func specialKeys(k1, k2 string, n int) bool {
	switch n {
	case 1:
		return k1 == "$date" || k1 == "$binary" || k1 == "$InfNaN" || k1 == "$escape"
	case 2:
		if k1 > k2 {
			k1, k2 = k2, k1
		}
		return k1 == "$flags" && k2 == "$regexp" || k1 == "$type" && k2 == "$value"
	}
	return false
}

func (e *encoder) mapStringAny(m map[string]any) error {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	escape := len(keys) <= 2 && len(keys) > 0 && specialKeys(keys[0], keys[len(keys)-1], len(keys))
	if escape {
		e.buf = append(e.buf, `{"$escape":`...)
	}
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, k)
		e.buf = append(e.buf, ':')
		if err := e.value(m[k]); err != nil {
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (as encoding/json does); U+2028 and U+2029 are escaped for JavaScript.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
