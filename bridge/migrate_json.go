package bridge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"
	"unicode"

	"github.com/chatbridge/chatbridge/ddp"
	"github.com/chatbridge/chatbridge/livechat/migrate"
)

// Rocket.Chat data is read and written as `mongoexport` writes a
// collection: one document per line in MongoDB Extended JSON. Writing uses
// the relaxed form (`{"$date":"2026-01-02T03:04:05.000Z"}`), which
// `mongoimport` loads into a Rocket.Chat database; reading also takes the
// canonical and legacy forms ({"$date":{"$numberLong":"…"}}, {"$date":<ms>},
// {"$oid":…}, {"$numberInt":…}, {"$numberLong":…}, {"$numberDouble":…}).

// docWriter writes documents as Extended JSON lines.
type docWriter struct {
	f *os.File
	w *bufio.Writer
	n int
}

// createDocFile creates path, which must not exist.
func createDocFile(path string) (*docWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &docWriter{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// write writes one document: a bridge shape or a map, whose time.Time
// values become relaxed $date forms.
func (d *docWriter) write(doc any) error {
	raw, err := ddp.EncodeEJSON(doc)
	if err != nil {
		return err
	}
	v, err := ddp.DecodeEJSON(raw)
	if err != nil {
		return err
	}
	line, err := json.Marshal(relaxedDates(v))
	if err != nil {
		return err
	}
	d.n++
	if _, err := d.w.Write(line); err != nil {
		return err
	}
	return d.w.WriteByte('\n')
}

func (d *docWriter) close() error {
	err := d.w.Flush()
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// toDoc turns a bridge shape into a map to add stored-only fields to.
func toDoc(shape any) (map[string]any, error) {
	raw, err := ddp.EncodeEJSON(shape)
	if err != nil {
		return nil, err
	}
	v, err := ddp.DecodeEJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("bridge: %T is not a document", shape)
	}
	return m, nil
}

// relaxedDates replaces the time.Time values of a decoded EJSON tree with
// Extended JSON v2 relaxed dates.
func relaxedDates(v any) any {
	switch x := v.(type) {
	case time.Time:
		return map[string]any{"$date": x.UTC().Format("2006-01-02T15:04:05.000Z")}
	case map[string]any:
		for k, e := range x {
			x[k] = relaxedDates(e)
		}
	case []any:
		for i, e := range x {
			x[i] = relaxedDates(e)
		}
	}
	return v
}

// docReader reads Extended JSON lines, counting them for error messages.
type docReader struct {
	name string
	r    *bufio.Reader
	f    *os.File
	line int
	off  int64
}

// openDocFile opens path; a missing file reads as empty.
func openDocFile(dir, name string) (*docReader, error) {
	f, err := os.Open(dir + string(os.PathSeparator) + name)
	if errors.Is(err, os.ErrNotExist) {
		return &docReader{name: name}, nil
	}
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 256<<10)
	skipped := int64(0)
	// mongoexport --jsonArray writes one array (on one line, or spread by
	// --pretty): not documents by line, so refuse it rather than misread.
	for {
		b, err := r.Peek(1)
		if err != nil || !unicode.IsSpace(rune(b[0])) {
			if err == nil && b[0] == '[' {
				f.Close()
				return nil, fmt.Errorf("%s is a JSON array (mongoexport --jsonArray): export it with one document per line, without --jsonArray", name)
			}
			break
		}
		_, _ = r.ReadByte()
		skipped++
	}
	return &docReader{name: name, f: f, r: r, off: skipped}, nil
}

func (d *docReader) close() {
	if d.f != nil {
		_ = d.f.Close()
	}
}

// next decodes the next document into v; io.EOF after the last. It also
// says at which byte offset the line starts.
func (d *docReader) next(v any) (int64, error) {
	for d.r != nil {
		start := d.off
		line, err := migrate.ReadLine(d.r, nil)
		if len(line) == 0 && err != nil {
			return 0, err
		}
		d.line++
		d.off += int64(len(line))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := decodeExtJSON(line, v); err != nil {
			return 0, fmt.Errorf("%s line %d: %w", d.name, d.line, err)
		}
		return start, nil
	}
	return 0, io.EOF
}

// readAt decodes the document of the line starting at off into v.
func (d *docReader) readAt(off int64, v any) error {
	r := bufio.NewReader(io.NewSectionReader(d.f, off, migrate.MaxLine))
	line, err := migrate.ReadLine(r, nil)
	if len(line) == 0 && err != nil {
		return fmt.Errorf("%s at byte %d: %w", d.name, off, err)
	}
	if err := decodeExtJSON(bytes.TrimSpace(line), v); err != nil {
		return fmt.Errorf("%s at byte %d: %w", d.name, off, err)
	}
	return nil
}

// decodeExtJSON decodes one Extended JSON document into v: dates become
// RFC 3339 strings (time.Time fields take them), numbers plain numbers.
func decodeExtJSON(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	plain, err := plainExtJSON(tree)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(plain)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("unexpected document: %w", err)
	}
	return nil
}

// plainExtJSON rewrites Extended JSON wrappers into plain JSON values.
func plainExtJSON(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, e := range x {
				switch k {
				case "$date":
					t, err := extDate(e)
					if err != nil {
						return nil, err
					}
					return t.UTC().Format(time.RFC3339Nano), nil
				case "$oid", "$numberDecimal":
					if s, ok := e.(string); ok {
						return s, nil
					}
				case "$numberInt", "$numberLong", "$numberDouble":
					if s, ok := e.(string); ok {
						return json.Number(s), nil
					}
				}
			}
		}
		for k, e := range x {
			p, err := plainExtJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = p
		}
	case []any:
		for i, e := range x {
			p, err := plainExtJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = p
		}
	}
	return v, nil
}

// extDate reads the value of a $date: an ISO string, milliseconds, or
// {"$numberLong": "<ms>"}.
func extDate(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return time.Parse(time.RFC3339Nano, x)
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("bad $date %s", x)
		}
		return time.UnixMilli(int64(f)).UTC(), nil
	case map[string]any:
		if s, ok := x["$numberLong"].(string); ok && len(x) == 1 {
			ms, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("bad $date %q", s)
			}
			return time.UnixMilli(ms).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad $date %v", v)
}
