package ddp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type textKey int

func (k textKey) MarshalText() ([]byte, error) { return []byte("k" + string(rune('0'+k))), nil }

type inner struct {
	Deep string `json:"deep"`
	Name string `json:"name"`
}

type outer struct {
	inner
	Name    string     `json:"name"` // shadows inner.Name
	At      time.Time  `json:"at"`
	AtPtr   *time.Time `json:"atPtr,omitempty"`
	Blob    []byte     `json:"blob,omitempty"`
	Skip    string     `json:"-"`
	Empty   string     `json:"empty,omitempty"`
	Zero    time.Time  `json:"zero,omitzero"`
	Plain   int
	private int
}

type dollarOne struct {
	Date int `json:"$date"`
}

type marshals struct{}

func (marshals) MarshalJSON() ([]byte, error) { return []byte(`{"custom":true}`), nil }

type brokenMarshaler struct{}

func (brokenMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{nope`), nil }

func TestEncodeEJSON(t *testing.T) {
	t.Parallel()
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("X", 3600))
	ms := ts.UnixMilli()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, `null`},
		{"date", ts, `{"$date":` + itoa(ms) + `}`},
		{"date pointer", &ts, `{"$date":` + itoa(ms) + `}`},
		{"nil date pointer", (*time.Time)(nil), `null`},
		{"binary", []byte("hi\x00"), `{"$binary":"aGkA"}`},
		{"nil binary", []byte(nil), `null`},
		{"NaN", math.NaN(), `{"$InfNaN":0}`},
		{"+Inf", math.Inf(1), `{"$InfNaN":1}`},
		{"-Inf float32", float32(math.Inf(-1)), `{"$InfNaN":-1}`},
		{"floats", []any{1.5, 1e21, 1e-7, 100.0, float32(0.1), math.Copysign(0, -1)}, `[1.5,1e+21,1e-7,100,0.1,-0]`},
		{"ints", []any{int8(-1), uint64(1 << 63), 42}, `[-1,9223372036854775808,42]`},
		{"string escapes", "a\"b\\c\n\t\x01<>&\u2028\xff", `"a\"b\\c\n\t\u0001<>&\u2028\ufffd"`},
		{"regexp", Regexp{Source: "^a.*", Flags: "gi"}, `{"$regexp":"^a.*","$flags":"gi"}`},
		{"typed", TypedValue{Type: "oid", Value: json.RawMessage(`"0123456789abcdef01234567"`)}, `{"$type":"oid","$value":"0123456789abcdef01234567"}`},
		{"raw", json.RawMessage(`{"$date":1}`), `{"$date":1}`},
		{"number", json.Number("12.50"), `12.50`},
		{"escaped map", map[string]any{"$date": 5}, `{"$escape":{"$date":5}}`},
		{"escaped escape", map[string]any{"$escape": map[string]any{}}, `{"$escape":{"$escape":{}}}`},
		{"escaped pair", map[string]any{"$type": "x", "$value": ts}, `{"$escape":{"$type":"x","$value":{"$date":` + itoa(ms) + `}}}`},
		{"escaped typed map", map[string]int{"$regexp": 1, "$flags": 2}, `{"$escape":{"$flags":2,"$regexp":1}}`},
		{"three keys are plain", map[string]any{"$date": 1, "a": 2, "b": 3}, `{"$date":1,"a":2,"b":3}`},
		{"other dollar key is plain", map[string]any{"$set": 1}, `{"$set":1}`},
		{"escaped struct", dollarOne{Date: 3}, `{"$escape":{"$date":3}}`},
		{"sorted keys", map[string]any{"b": 1, "a": []any{true, nil}}, `{"a":[true,null],"b":1}`},
		{"int and text keys", []any{map[int]string{2: "b", 10: "a"}, map[textKey]int{1: 1}}, `[{"10":"a","2":"b"},{"k1":1}]`},
		{"struct", outer{inner: inner{Deep: "d", Name: "hidden"}, Name: "n", At: ts, Plain: 7},
			`{"deep":"d","name":"n","at":{"$date":` + itoa(ms) + `},"Plain":7}`},
		{"struct pointer", &outer{Blob: []byte{1}, AtPtr: &ts},
			`{"deep":"","name":"","at":{"$date":-62135596800000},"atPtr":{"$date":` + itoa(ms) + `},"blob":{"$binary":"AQ=="},"Plain":0}`},
		{"marshaler", []any{marshals{}, &marshals{}}, `[{"custom":true},{"custom":true}]`},
		{"string slice", []string{"a", "b"}, `["a","b"]`},
		{"array of bytes is an array", [2]byte{1, 2}, `[1,2]`},
		{"nil slices and maps", []any{[]int(nil), map[string]int(nil), []any(nil), map[string]any(nil)}, `[null,null,null,null]`},
		{"interface in struct", struct{ V any }{V: ts}, `{"V":{"$date":` + itoa(ms) + `}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := EncodeEJSON(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestEncodeEJSONErrors(t *testing.T) {
	t.Parallel()
	type cyclic struct{ Next *cyclic }
	loop := &cyclic{}
	loop.Next = loop
	m := map[string]any{}
	m["self"] = m
	for name, v := range map[string]any{
		"channel":     make(chan int),
		"func":        func() {},
		"complex":     complex(1, 2),
		"cyclic ptr":  loop,
		"cyclic map":  m,
		"bad raw":     json.RawMessage(`{`),
		"bad marshal": brokenMarshaler{},
		"bad number":  json.Number("12x"),
	} {
		if b, err := EncodeEJSON(v); err == nil {
			t.Errorf("%s: encoded as %s", name, b)
		} else if name != "complex" && !errors.Is(err, ErrInvalidEJSON) {
			t.Errorf("%s: %v does not wrap ErrInvalidEJSON", name, err)
		}
	}
	dst := []byte("prefix")
	if out, err := AppendEJSON(dst, make(chan int)); err == nil || string(out) != "prefix" {
		t.Fatalf("AppendEJSON on error: %q %v", out, err)
	}
}

func TestDecodeEJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     any
	}{
		{"date ms", `{"$date":1700000000123}`, time.UnixMilli(1700000000123).UTC()},
		{"date fraction dropped", `{"$date":1.9}`, time.UnixMilli(1).UTC()},
		{"date negative", `{"$date":-1000}`, time.UnixMilli(-1000).UTC()},
		{"date ISO", `{"$date":"2023-11-14T22:13:20.123456Z"}`, time.UnixMilli(1700000000123).UTC()},
		{"date ISO offset", `{"$date":"2023-11-14T23:13:20+01:00"}`, time.UnixMilli(1700000000000).UTC()},
		{"date only", `{"$date":"2023-11-14"}`, time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)},
		{"binary", `{"$binary":"AQID"}`, []byte{1, 2, 3}},
		{"binary unpadded", `{"$binary":"AQ"}`, []byte{1}},
		{"binary empty", `{"$binary":""}`, []byte{}},
		{"inf", `{"$InfNaN":1}`, math.Inf(1)},
		{"-inf", `{"$InfNaN":-1}`, math.Inf(-1)},
		{"regexp", `{"$regexp":"a+","$flags":"gxigq"}`, Regexp{Source: "a+", Flags: "ig"}},
		{"oid", `{"$type":"oid","$value":"0123456789ABCDEF01234567"}`, TypedValue{Type: "oid", Value: json.RawMessage(`"0123456789ABCDEF01234567"`)}},
		{"escape", `{"$escape":{"$date":{"$date":0}}}`, map[string]any{"$date": time.UnixMilli(0).UTC()}},
		{"extra key is plain", `{"$date":1,"x":2}`, map[string]any{"$date": 1.0, "x": 2.0}},
		{"unknown dollar is plain", `{"$foo":{"$binary":"AA=="}}`, map[string]any{"$foo": []byte{0}}},
		{"escaped key", `{"\u0024date":5}`, time.UnixMilli(5).UTC()},
		{"nested", `[{"a":[{"$date":0}]},"x",null,true]`, []any{map[string]any{"a": []any{time.UnixMilli(0).UTC()}}, "x", nil, true}},
		{"no specials", `{"a":1}`, map[string]any{"a": 1.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeEJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
	nan, err := DecodeEJSON([]byte(`{"$InfNaN":0}`))
	if f, ok := nan.(float64); err != nil || !ok || !math.IsNaN(f) {
		t.Fatalf("NaN: %v %v", nan, err)
	}
}

func TestDecodeEJSONErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"$date":"soon"}`, `{"$date":true}`, `{"$date":1e300}`, `{"$date":null}`,
		`{"$binary":"%%%"}`, `{"$binary":1}`,
		`{"$InfNaN":"x"}`,
		`{"$escape":1}`, `{"$escape":{"a":{"$date":"x"}}}`,
		`{"$regexp":1,"$flags":""}`, `{"$regexp":"a","$flags":null}`,
		`{"$type":"mystery","$value":1}`, `{"$type":1,"$value":1}`, `{"$type":"oid","$value":"xyz"}`,
		`[{"a":{"$date":"x"}}]`,
	} {
		if v, err := DecodeEJSON([]byte(in)); err == nil {
			t.Errorf("%s decoded as %#v", in, v)
		} else if !errors.Is(err, ErrInvalidEJSON) {
			t.Errorf("%s: %v does not wrap ErrInvalidEJSON", in, err)
		}
		var v any
		if err := UnmarshalEJSON([]byte(in), &v); err == nil {
			t.Errorf("UnmarshalEJSON accepted %s", in)
		}
	}
	if _, err := DecodeEJSON([]byte(`{"a":`)); err == nil {
		t.Error("syntax error accepted")
	}
}

func TestUnmarshalEJSON(t *testing.T) {
	t.Parallel()
	type doc struct {
		At     time.Time      `json:"at"`
		Opt    *time.Time     `json:"opt"`
		Blob   []byte         `json:"blob"`
		Re     Regexp         `json:"re"`
		ID     TypedValue     `json:"id"`
		Lit    map[string]any `json:"lit"`
		Count  int64          `json:"count"`
		Any    any            `json:"any"`
		Absent string         `json:"absent"`
	}
	in := `{"at":{"$date":1700000000123},"opt":{"$date":"2023-11-14T22:13:20Z"},"blob":{"$binary":"AQID"},` +
		`"re":{"$regexp":"x","$flags":"mm"},"id":{"$type":"oid","$value":"0123456789abcdef01234567"},` +
		`"lit":{"$escape":{"$binary":"not decoded"}},"count":9007199254740993,"any":{"$date":0}}`
	var d doc
	if err := UnmarshalEJSON([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if !d.At.Equal(time.UnixMilli(1700000000123)) || d.Opt == nil || !d.Opt.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("dates: %v %v", d.At, d.Opt)
	}
	if !bytes.Equal(d.Blob, []byte{1, 2, 3}) || d.Re != (Regexp{"x", "m"}) || d.ID.Type != "oid" {
		t.Errorf("binary, regexp, typed: %v %v %v", d.Blob, d.Re, d.ID)
	}
	if d.Lit["$binary"] != "not decoded" || d.Count != 9007199254740993 {
		t.Errorf("escape or big integer: %v %v", d.Lit, d.Count)
	}
	if s, ok := d.Any.(string); !ok || !strings.HasPrefix(s, "1970-01-01T00:00:00") {
		t.Errorf("untyped date: %#v", d.Any)
	}
	if err := UnmarshalEJSON([]byte(`{"$date":1} {}`), new(any)); err == nil {
		t.Error("trailing data accepted")
	}
}

// EncodeEJSON and DecodeEJSON agree: decode(encode(v)) re-encodes the same.
func TestEJSONRoundTrip(t *testing.T) {
	t.Parallel()
	v := map[string]any{
		"ts":      time.UnixMilli(1700000000123).UTC(),
		"bin":     []byte{0, 255},
		"nan":     math.NaN(),
		"esc":     map[string]any{"$date": map[string]any{"$binary": "x"}},
		"re":      Regexp{Source: "a", Flags: "g"},
		"list":    []any{1.5, "s", nil, false, map[string]any{}},
		"unicode": "héllo \u2028",
	}
	b1, err := EncodeEJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeEJSON(b1)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := EncodeEJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("round trip changed\n%s\n%s", b1, b2)
	}
}
