package ddp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxDateMillis is the range of a JavaScript Date (±100,000,000 days).
const maxDateMillis = 8.64e15

// DecodeEJSON decodes EJSON into plain Go values: map[string]any, []any,
// string, float64 (numbers are JavaScript doubles), bool and nil, plus
// time.Time (UTC, millisecond precision) for $date, []byte for $binary,
// NaN and ±Inf for $InfNaN, Regexp and TypedValue. Errors are JSON syntax
// errors or wrap ErrInvalidEJSON.
func DecodeEJSON(data []byte) (any, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if !maySpecial(data) {
		return v, nil
	}
	return fromJSON(v, false)
}

// UnmarshalEJSON decodes EJSON into v as encoding/json would decode plain
// JSON, after turning each special form into what encoding/json expects:
// $date into an RFC 3339 string (so time.Time fields receive it), $binary
// into a base64 string ([]byte fields), $escape into its plain object.
// $regexp, $type and $InfNaN objects are passed on as they are (Regexp and
// TypedValue fields receive them). A field typed any therefore sees a date
// as a string: use DecodeEJSON (or Params.Value) for untyped values.
func UnmarshalEJSON(data []byte, v any) error {
	if !maySpecial(data) {
		return json.Unmarshal(data, v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the top-level value", ErrInvalidEJSON)
	}
	tree, err := fromJSON(tree, true)
	if err != nil {
		return err
	}
	b, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// maySpecial reports whether data can hold a key starting with "$": only
// then is there EJSON work to do. A key is a JSON string token, so its "$"
// is either right after the opening quote or written \u0024.
func maySpecial(data []byte) bool {
	return bytes.Contains(data, []byte(`"$`)) || bytes.Contains(data, []byte(`\u0024`))
}

// fromJSON rewrites the special forms in a decoded JSON tree, in place.
// plain selects the encoding/json-friendly forms of UnmarshalEJSON.
func fromJSON(v any, plain bool) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if s, ok, err := special(x, plain); ok || err != nil {
			return s, err
		}
		for k, el := range x {
			d, err := fromJSON(el, plain)
			if err != nil {
				return nil, err
			}
			x[k] = d
		}
		return x, nil
	case []any:
		for i, el := range x {
			d, err := fromJSON(el, plain)
			if err != nil {
				return nil, err
			}
			x[i] = d
		}
		return x, nil
	}
	return v, nil
}

// special decodes m when its keys are exactly those of a special form.
func special(m map[string]any, plain bool) (any, bool, error) {
	switch len(m) {
	case 1:
		for k, v := range m {
			switch k {
			case "$date":
				t, err := decodeDate(v)
				if err != nil {
					return nil, true, err
				}
				if plain {
					return t.Format(time.RFC3339Nano), true, nil
				}
				return t, true, nil
			case "$binary":
				b, err := decodeBinary(v)
				if err != nil {
					return nil, true, err
				}
				if plain {
					return base64.StdEncoding.EncodeToString(b), true, nil
				}
				return b, true, nil
			case "$InfNaN":
				f, ok := number(v)
				if !ok {
					return nil, true, fmt.Errorf("%w: $InfNaN wants a number", ErrInvalidEJSON)
				}
				sign := 0
				switch {
				case f > 0:
					sign = 1
				case f < 0:
					sign = -1
				}
				if plain {
					return map[string]any{"$InfNaN": json.Number(strconv.Itoa(sign))}, true, nil
				}
				if sign == 0 {
					return math.NaN(), true, nil
				}
				return math.Inf(sign), true, nil
			case "$escape":
				inner, ok := v.(map[string]any)
				if !ok {
					return nil, true, fmt.Errorf("%w: $escape wants an object", ErrInvalidEJSON)
				}
				// One level is literal; the values are EJSON again.
				for ik, iv := range inner {
					d, err := fromJSON(iv, plain)
					if err != nil {
						return nil, true, err
					}
					inner[ik] = d
				}
				return inner, true, nil
			}
		}
	case 2:
		if src, ok := m["$regexp"]; ok {
			if flags, ok := m["$flags"]; ok {
				s, ok1 := src.(string)
				f, ok2 := flags.(string)
				if !ok1 || !ok2 {
					return nil, true, fmt.Errorf("%w: $regexp and $flags want strings", ErrInvalidEJSON)
				}
				r := Regexp{Source: s, Flags: sanitizeFlags(f)}
				if plain {
					return map[string]any{"$regexp": r.Source, "$flags": r.Flags}, true, nil
				}
				return r, true, nil
			}
		}
		if typ, ok := m["$type"]; ok {
			if val, ok := m["$value"]; ok {
				name, ok := typ.(string)
				if !ok {
					return nil, true, fmt.Errorf("%w: $type wants a string", ErrInvalidEJSON)
				}
				if !KnownEJSONTypes(name) {
					return nil, true, fmt.Errorf("%w: custom EJSON type %q is not defined", ErrInvalidEJSON, name)
				}
				if err := checkTyped(name, val); err != nil {
					return nil, true, err
				}
				if plain {
					return m, true, nil
				}
				raw, err := json.Marshal(val)
				if err != nil {
					return nil, true, err
				}
				return TypedValue{Type: name, Value: raw}, true, nil
			}
		}
	}
	return nil, false, nil
}

// number reads a decoded JSON number (float64, or json.Number with UseNumber).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// decodeDate reads a $date: milliseconds since the epoch (a fractional part
// is dropped, as JavaScript's Date does) or, leniently, an ISO 8601 string.
func decodeDate(v any) (time.Time, error) {
	if ms, ok := number(v); ok {
		if math.IsNaN(ms) || math.Abs(ms) > maxDateMillis {
			return time.Time{}, fmt.Errorf("%w: $date out of range", ErrInvalidEJSON)
		}
		return time.UnixMilli(int64(ms)).UTC(), nil
	}
	if s, ok := v.(string); ok {
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				if ms := t.UnixMilli(); math.Abs(float64(ms)) <= maxDateMillis {
					return time.UnixMilli(ms).UTC(), nil
				}
			}
		}
		return time.Time{}, fmt.Errorf("%w: $date string %q is not an ISO 8601 date", ErrInvalidEJSON, s)
	}
	return time.Time{}, fmt.Errorf("%w: $date wants a number of milliseconds", ErrInvalidEJSON)
}

// dateLayouts are the ISO 8601 forms JavaScript's Date parses reliably; a
// string without a zone is taken as UTC.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

func decodeBinary(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: $binary wants a base64 string", ErrInvalidEJSON)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("%w: $binary is not base64", ErrInvalidEJSON)
		}
	}
	return b, nil
}

// sanitizeFlags keeps what Meteor keeps: at most 50 characters in, only
// the flags g, i, m, u and y, each once (its last occurrence).
func sanitizeFlags(f string) string {
	if len(f) > 50 {
		f = f[:50]
	}
	var out []byte
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !strings.ContainsRune("gimuy", rune(c)) || strings.IndexByte(f[i+1:], c) >= 0 {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

// checkTyped validates the value of a known custom type.
func checkTyped(name string, v any) error {
	if name == "oid" {
		s, ok := v.(string)
		if !ok || len(s) != 24 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
			return fmt.Errorf("%w: oid wants 24 hexadecimal digits", ErrInvalidEJSON)
		}
	}
	return nil
}
