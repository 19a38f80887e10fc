package bridge

import (
	"encoding/binary"
	"errors"
)

// A bundle is what the bridge hands the hub as one "frame": the DDP
// messages one domain event becomes for one audience, each tagged with the
// stream it belongs to, so every session of the audience shares the bytes
// and sends only the messages of the streams it subscribed (conn.Send).
//
// Layout, repeated: kind (1 byte), uvarint key length, key, uvarint body
// length, body. For entryFrame the key is a streamKey and the body a whole
// DDP message; for the inquiry entries the key is the inquiry id and the
// body its fields (added) or empty (removed).

// Bundle entry kinds.
const (
	entryFrame          byte = 'f'
	entryInquiryAdded   byte = 'a'
	entryInquiryRemoved byte = 'r'
)

// errBadBundle means a bundle was cut short; only a bug makes one.
var errBadBundle = errors.New("bridge: malformed bundle")

// streamKey names one stream event subscription: the stream's collection
// and the event name, as the client subscribed them.
func streamKey(collection, eventName string) string { return collection + "\x00" + eventName }

type bundle struct{ b []byte }

func (bu *bundle) add(kind byte, key string, body []byte) {
	bu.b = append(bu.b, kind)
	bu.b = binary.AppendUvarint(bu.b, uint64(len(key)))
	bu.b = append(bu.b, key...)
	bu.b = binary.AppendUvarint(bu.b, uint64(len(body)))
	bu.b = append(bu.b, body...)
}

// bytes is the bundle, or nil when it holds nothing (the hub then sends
// nothing to the audience).
func (bu *bundle) bytes() []byte {
	if len(bu.b) == 0 {
		return nil
	}
	return bu.b
}

// walkBundle calls f for each entry in order. Keys and bodies are
// sub-slices of b: f must not keep or modify them.
func walkBundle(b []byte, f func(kind byte, key, body []byte)) error {
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		kl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < kl {
			return errBadBundle
		}
		key := b[n : n+int(kl) : n+int(kl)]
		b = b[n+int(kl):]
		bl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < bl {
			return errBadBundle
		}
		body := b[n : n+int(bl) : n+int(bl)]
		b = b[n+int(bl):]
		f(kind, key, body)
	}
	return nil
}
