package nakedhtmx

import (
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/corpus"
)

// TestCorpus runs the golden corpus (testdata/corpus) through the .wasm under
// wazero. It only compares: the native runner in core/engine writes the
// expected answers, and this host must reproduce them byte for byte.
func TestCorpus(t *testing.T) {
	needWasm(t)
	corpus.Test(t, func(t *testing.T, c *corpus.Case) corpus.HandleFunc {
		return newHost(t, c.Schema, Options{Config: c.Config, BasePath: c.Open.BasePath}).Handle
	}, corpus.Compare)
}
