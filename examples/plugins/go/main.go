//go:build wasip1

// A nakedhtmx plugin in standard Go (docs/plugins.md): built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o email.wasm ./examples/plugins/go
//
// on the Extism plugin ABI through github.com/extism/go-pdk. It checks that
// the "email" value of a row looks like an address, as a validator hook
// (the hooks are not wired into the core yet: docs/plugins.md).
package main

import (
	"strings"

	"github.com/extism/go-pdk"
)

// manifest is what the plugin declares: its name and its hooks.
const manifest = `{"name":"email-check","version":"0.1.0","hooks":[{"kind":"validator","function":"check_email","column":"email"}]}`

//go:wasmexport nakedhtmx_manifest
func nakedhtmxManifest() int32 {
	pdk.OutputString(manifest)
	return 0
}

// input is a validator's: the row about to be written.
type input struct {
	Row map[string]any `json:"row"`
}

// output is a validator's answer: a message per column found wrong.
type output struct {
	Errors map[string]string `json:"errors"`
}

//go:wasmexport check_email
func checkEmail() int32 {
	var in input
	if err := pdk.InputJSON(&in); err != nil {
		pdk.SetErrorString("the input is not the JSON of a row")
		return 1
	}
	out := output{Errors: map[string]string{}}
	if v, ok := in.Row["email"].(string); ok {
		at := strings.IndexByte(v, '@')
		if at <= 0 || at == len(v)-1 || strings.Count(v, "@") != 1 {
			out.Errors["email"] = "is not an email address"
		}
	}
	if err := pdk.OutputJSON(out); err != nil {
		pdk.SetError(err)
		return 1
	}
	return 0
}

func main() {}
