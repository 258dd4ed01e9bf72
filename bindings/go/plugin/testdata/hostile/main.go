//go:build wasip1

// Plugins that misbehave, one function each, for plugin_test.go: built
// with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/extism/go-pdk"
)

//go:wasmexport echo
func echo() int32 {
	pdk.Output(pdk.Input())
	return 0
}

//go:wasmexport spin
func spin() int32 {
	n := 0
	for {
		n++
	}
}

var keep [][]byte

//go:wasmexport bomb
func bomb() int32 {
	for {
		keep = append(keep, make([]byte, 1<<20))
	}
}

//go:wasmexport boom
func boom() int32 {
	panic("boom")
}

//go:wasmexport huge
func huge() int32 {
	pdk.OutputString(strings.Repeat("x", 4<<20))
	return 0
}

//go:wasmexport refuse
func refuse() int32 {
	pdk.SetErrorString("no, said the plugin")
	return 1
}

//go:wasmexport nonzero
func nonzero() int32 { return 7 }

//go:wasmexport vars
func vars() int32 {
	n, _ := pdk.GetVar("n"), 0
	pdk.SetVar("n", append(n, 'x'))
	cfg, _ := pdk.GetConfig("greeting")
	pdk.OutputString(cfg + ":" + string(pdk.GetVar("n")))
	return 0
}

//go:wasmexport fat_vars
func fatVars() int32 {
	pdk.SetVar("big", make([]byte, 512<<10))
	return 0
}

//go:wasmexport network
func network() int32 {
	req := pdk.NewHTTPRequest(pdk.MethodGet, "http://127.0.0.1:1/")
	req.Send()
	return 0
}

//go:wasmexport logs
func logs() int32 {
	pdk.Log(pdk.LogInfo, "hello from the plugin")
	return 0
}

// senses answers what the plugin can see of the world: the time, random
// bytes, a file of the host's.
//
//go:wasmexport senses
func senses() int32 {
	b := make([]byte, 8)
	rand.Read(b)
	_, err := os.ReadFile("/etc/hostname")
	out, _ := json.Marshal(map[string]any{"now": time.Now().Unix(), "rand": hex.EncodeToString(b), "file": err != nil})
	pdk.Output(out)
	return 0
}

func main() {}
