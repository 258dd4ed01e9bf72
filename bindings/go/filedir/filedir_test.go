package filedir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nakedhtmx/nakedhtmx/core/sqldb"
)

const key = "0123456789abcdef0123456789abcdef-5.txt"

// Only the core's keys name files, and nothing reaches outside the
// directory: not a key with a path in it, not a symbolic link planted there.
func TestDir(t *testing.T) {
	base := t.TempDir()
	var d Dir
	if err := d.PutFile(key, []byte("hello")); err == nil {
		t.Fatal("a put with no directory set")
	}
	d.SetFilesDir(filepath.Join(base, "db-files"))
	if _, err := d.GetFile(key); !errors.Is(err, sqldb.ErrNoFile) {
		t.Fatalf("before the directory exists: %v", err)
	}
	if err := d.PutFile(key, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if b, err := d.GetFile(key); err != nil || string(b) != "hello" {
		t.Fatalf("get: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(base, "db-files")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the directory: %v %v", fi, err)
	}
	for _, bad := range []string{"../secret", "/etc/passwd", "0123456789abcdef0123456789abcdef-5.txt/../../x", "0123456789ABCDEF0123456789abcdef-5.txt",
		"0123456789abcdef0123456789abcdef-05.txt", "0123456789abcdef0123456789abcdef-5.html", "0123456789abcdef0123456789abcdef-5.txt\x00", ""} {
		if err := d.PutFile(bad, []byte("x")); err == nil {
			t.Errorf("put %q", bad)
		}
		if _, err := d.GetFile(bad); err == nil {
			t.Errorf("get %q", bad)
		}
	}
	outside := filepath.Join(base, "outside")
	os.WriteFile(outside, []byte("secret"), 0o600)
	planted := "fedcba9876543210fedcba9876543210-6.txt"
	if err := os.Symlink(outside, filepath.Join(base, "db-files", planted)); err != nil {
		t.Fatal(err)
	}
	if b, err := d.GetFile(planted); err == nil {
		t.Fatalf("a planted link was followed: %q", b)
	}
	if err := d.DeleteFile(key); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteFile(key); err != nil {
		t.Fatalf("deleting a file already gone: %v", err)
	}
	if _, err := d.GetFile(key); !errors.Is(err, sqldb.ErrNoFile) {
		t.Fatalf("after the delete: %v", err)
	}
}

func TestDefault(t *testing.T) {
	for _, tc := range []struct{ db, config, base, want string }{
		{"app.db", ``, "", "app.db-files"},
		{"/data/app.db", `{"files": {"dir": "up"}}`, "/etc/nh", "/etc/nh/up"},
		{"/data/app.db", `{"files": {"dir": "/srv/up"}}`, "/etc/nh", "/srv/up"},
		{"postgres://h/db", ``, "", ""},
		{"postgres://h/db", `{"files": {"dir": "up"}}`, "", "up"},
		{":memory:", ``, "", ""},
	} {
		if got := Default(tc.db, []byte(tc.config), tc.base); got != tc.want {
			t.Errorf("Default(%q, %s, %q) = %q, want %q", tc.db, tc.config, tc.base, got, tc.want)
		}
	}
}
