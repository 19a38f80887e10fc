package bridge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docs/rocketchat-mapping.md is the table of what the bridge answers: every
// method and publication registered must be named there, in backquotes.
func TestMappingDocNamesEveryMethodAndPublication(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "rocketchat-mapping.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	b := &Bridge{}
	check := func(kind, name string) {
		if !strings.Contains(text, "`"+name+"`") {
			t.Errorf("%s %q is registered but docs/rocketchat-mapping.md does not name it", kind, name)
		}
	}
	for name := range b.methods() {
		check("method", name)
	}
	for name := range b.publications() {
		check("publication", name)
	}
}
