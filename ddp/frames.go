package ddp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// DDP versions the server speaks, in its order of preference ("1" is
// Meteor's current protocol; "pre2" is what @rocket.chat/sdk 0.2.9 offers;
// "pre1" has no ping/pong).
var supportedVersions = []string{"1", "pre2", "pre1"}

// negotiate is Meteor's version choice: the first of the client's versions
// the server supports, else the server's first.
func negotiate(support []string) string {
	for _, v := range support {
		for _, s := range supportedVersions {
			if v == s {
				return v
			}
		}
	}
	return supportedVersions[0]
}

// inFrame is a client message with its fields kept raw (slices of the
// message), so the session can tell a missing field from a mistyped one, as
// Meteor's checks do. Keys match exactly; unknown fields are ignored; a
// repeated key keeps its last value.
type inFrame struct {
	Msg, ID, Method, Name, Params, RandomSeed, Version, Support json.RawMessage
}

// parseFrame splits one client message into f's fields; false when it is
// not a JSON object (Meteor: "Bad request" without offendingMessage). It
// validates once with json.Valid, then walks the top level without
// decoding, so a message costs no allocation beyond what is kept.
func parseFrame(raw []byte, f *inFrame) bool {
	if !json.Valid(raw) {
		return false
	}
	i := skipSpace(raw, 0)
	if raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	for raw[i] != '}' {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		kEnd := skipValue(raw, i)
		key := raw[i:kEnd]
		i = skipSpace(raw, kEnd) + 1 // past ':'
		i = skipSpace(raw, i)
		vEnd := skipValue(raw, i)
		f.set(key, raw[i:vEnd])
		i = skipSpace(raw, vEnd)
	}
	return true
}

func (f *inFrame) set(key, val []byte) {
	k := key[1 : len(key)-1]
	if bytes.IndexByte(k, '\\') >= 0 {
		var s string
		if json.Unmarshal(key, &s) != nil {
			return
		}
		k = []byte(s)
	}
	switch string(k) {
	case "msg":
		f.Msg = val
	case "id":
		f.ID = val
	case "method":
		f.Method = val
	case "name":
		f.Name = val
	case "params":
		f.Params = val
	case "randomSeed":
		f.RandomSeed = val
	case "version":
		f.Version = val
	case "support":
		f.Support = val
	}
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at i. The
// input must be valid JSON (parseFrame checked it).
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the string starting at i.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// rawString reads a raw JSON value that must be a string.
func rawString(r json.RawMessage) (string, bool) {
	if len(r) < 2 || r[0] != '"' {
		return "", false
	}
	body := r[1 : len(r)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", false
	}
	return s, true
}

// rawElems splits a raw JSON array (from a validated message) into its
// elements; false when r is not an array.
func rawElems(r json.RawMessage) ([]json.RawMessage, bool) {
	if len(r) == 0 || r[0] != '[' {
		return nil, false
	}
	i := skipSpace(r, 1)
	if r[i] == ']' {
		return nil, true
	}
	var out []json.RawMessage
	for {
		end := skipValue(r, i)
		out = append(out, r[i:end:end])
		i = skipSpace(r, end)
		if r[i] == ']' {
			return out, true
		}
		i = skipSpace(r, i+1) // past ','
	}
}

// rawParams reads an optional params array: absent is empty, anything but
// an array (null included) is malformed.
func rawParams(r json.RawMessage) (Params, bool) {
	if r == nil {
		return nil, true
	}
	p, ok := rawElems(r)
	return Params(p), ok
}

// rawStrings reads an array of strings.
func rawStrings(r json.RawMessage) ([]string, bool) {
	elems, ok := rawElems(r)
	if !ok {
		return nil, false
	}
	out := make([]string, len(elems))
	for i, el := range elems {
		if out[i], ok = rawString(el); !ok {
			return nil, false
		}
	}
	return out, true
}

// echoable returns a raw value fit to send back inside a text frame:
// itself, or re-encoded when it holds invalid UTF-8 (which a websocket
// text frame must not carry).
func echoable(raw []byte) []byte {
	if utf8.Valid(raw) {
		return raw
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// Outbound frames. They are built by appending, in one pass, with ids and
// names JSON-escaped.

func frameConnected(session string) []byte {
	b := append([]byte(`{"msg":"connected","session":`), appendString(nil, session)...)
	return append(b, '}')
}

func frameFailed(version string) []byte {
	b := append([]byte(`{"msg":"failed","version":`), appendString(nil, version)...)
	return append(b, '}')
}

// framePong echoes the client ping's id (any JSON value) when it had one.
func framePong(id json.RawMessage) []byte {
	if id == nil {
		return []byte(`{"msg":"pong"}`)
	}
	b := append([]byte(`{"msg":"pong","id":`), echoable(id)...)
	return append(b, '}')
}

func framePing(seq uint64) []byte {
	b := append([]byte(`{"msg":"ping","id":"`), strconv.FormatUint(seq, 10)...)
	return append(b, `"}`...)
}

// maxOffending caps the offendingMessage echoed in a protocol error: a
// client's huge malformed message is not sent back to it.
const maxOffending = 16 << 10

// frameError is a protocol-level complaint; the socket stays open.
func frameError(reason string, offending []byte) []byte {
	b := append([]byte(`{"msg":"error","reason":`), appendString(nil, reason)...)
	if offending != nil && len(offending) <= maxOffending {
		if o := echoable(bytes.TrimSpace(offending)); o != nil {
			b = append(b, `,"offendingMessage":`...)
			b = append(b, o...)
		}
	}
	return append(b, '}')
}

func frameUpdated(id string) []byte {
	b := append([]byte(`{"msg":"updated","methods":[`), appendString(nil, id)...)
	return append(b, "]}"...)
}

func frameReady(id string) []byte {
	b := append([]byte(`{"msg":"ready","subs":[`), appendString(nil, id)...)
	return append(b, "]}"...)
}

// frameNosub ends a subscription, with an error when e is not nil.
func frameNosub(id string, e *Error) ([]byte, error) {
	b := append([]byte(`{"msg":"nosub","id":`), appendString(nil, id)...)
	var err error
	if e != nil {
		b = append(b, `,"error":`...)
		b, err = appendError(b, e)
	}
	return append(b, '}'), err
}

// frameResult is a method's outcome: result (EJSON) when e is nil, else the
// error. A nil result is left out, as Meteor leaves out undefined; a
// handler that means null returns json.RawMessage("null").
func frameResult(id string, result any, e *Error) ([]byte, error) {
	b := append([]byte(`{"msg":"result","id":`), appendString(nil, id)...)
	if e != nil {
		b = append(b, `,"error":`...)
		b, err := appendError(b, e)
		return append(b, '}'), err
	}
	if result != nil {
		n := len(b)
		b = append(b, `,"result":`...)
		var err error
		if b, err = AppendEJSON(b, result); err != nil {
			b, _ = appendError(append(b[:n], `,"error":`...), errInternal)
			return append(b, '}'), fmt.Errorf("result not encoded: %w", err)
		}
	}
	return append(b, '}'), nil
}

// EncodeAdded returns an `added` message: the document id entered the
// client's view of collection with fields (an object, or nil for none).
// Encode once and Session.Send the bytes to every session that should get
// them.
func EncodeAdded(collection, id string, fields any) ([]byte, error) {
	return appendDoc(nil, "added", collection, id, fields, nil)
}

// EncodeChanged returns a `changed` message: fields (an object of replaced
// top-level fields, or nil) and cleared (removed top-level fields). Rocket.Chat
// streams use it as their event carrier, with id "id".
func EncodeChanged(collection, id string, fields any, cleared []string) ([]byte, error) {
	return appendDoc(nil, "changed", collection, id, fields, cleared)
}

// EncodeRemoved returns a `removed` message.
func EncodeRemoved(collection, id string) []byte {
	return frameDoc("removed", collection, id, nil, nil)
}

// appendDoc encodes a collection message in one buffer, fields included.
func appendDoc(dst []byte, msg, collection, id string, fields any, cleared []string) ([]byte, error) {
	if dst == nil {
		dst = make([]byte, 0, 512)
	}
	b := appendDocHead(dst, msg, collection, id)
	if fields != nil {
		if err := checkFieldsType(fields); err != nil {
			return nil, err
		}
		n := len(b)
		b = append(b, `,"fields":`...)
		m := len(b)
		var err error
		if b, err = AppendEJSON(b, fields); err != nil {
			return nil, err
		}
		switch seg := b[m:]; {
		case string(seg) == "null" || string(seg) == "{}":
			b = b[:n] // no fields: left out, as Meteor does
		case seg[0] != '{':
			return nil, fmt.Errorf("%w: fields must be an object, got %.40s", ErrInvalidEJSON, seg)
		}
	}
	return appendDocTail(b, cleared), nil
}

// encodeFields encodes a document's fields, which must form an object; an
// empty object is left out of the message (nil).
func encodeFields(fields any) ([]byte, error) {
	if fields == nil {
		return nil, nil
	}
	if err := checkFieldsType(fields); err != nil {
		return nil, err
	}
	b, err := EncodeEJSON(fields)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" || string(b) == "{}" {
		return nil, nil
	}
	if b[0] != '{' {
		return nil, fmt.Errorf("%w: fields must be an object, got %.40s", ErrInvalidEJSON, b)
	}
	return b, nil
}

// checkFieldsType refuses values that encode as objects ({"$date":…}) but
// are not documents: dates, binaries, NaN and the like.
func checkFieldsType(fields any) error {
	t := reflect.TypeOf(fields)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isSpecial(t) || !implements(t) && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64) {
		return fmt.Errorf("%w: fields must be an object, not %s", ErrInvalidEJSON, t)
	}
	return nil
}

func frameDoc(msg, collection, id string, fields []byte, cleared []string) []byte {
	b := appendDocHead(make([]byte, 0, 48+len(collection)+len(id)+len(fields)), msg, collection, id)
	if fields != nil {
		b = append(b, `,"fields":`...)
		b = append(b, fields...)
	}
	return appendDocTail(b, cleared)
}

func appendDocHead(b []byte, msg, collection, id string) []byte {
	b = append(b, `{"msg":"`...)
	b = append(b, msg...)
	b = append(b, `","collection":`...)
	b = appendString(b, collection)
	b = append(b, `,"id":`...)
	return appendString(b, id)
}

func appendDocTail(b []byte, cleared []string) []byte {
	if len(cleared) > 0 {
		b = append(b, `,"cleared":[`...)
		for i, c := range cleared {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
