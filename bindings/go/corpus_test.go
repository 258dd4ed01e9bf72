package nakedhtmx

import (
	"strings"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/corpus"
)

// TestCorpus runs the golden corpus (testdata/corpus) through the .wasm under
// wazero. It only compares: the native runner in core/engine writes the
// expected answers, and this host must reproduce them byte for byte.
func TestCorpus(t *testing.T) {
	needWasm(t)
	cases, err := corpus.Load(corpus.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the corpus is empty")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			h := newHost(t, c.Schema, Options{Config: c.Config})
			answers, err := corpus.Run(c, h.Handle)
			if err != nil {
				t.Fatal(err)
			}
			if problems := c.Check(answers); len(problems) > 0 {
				t.Error(strings.Join(problems, "\n"))
			}
		})
	}
}
