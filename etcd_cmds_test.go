package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The commands that work on a bbolt file say what to do instead on a
// desk whose store is on etcd, and never open a file that is not there.
func TestFileCommandsOnAnEtcdDeskSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, cfgPath, filepath.Join(dir, "unused.db"), "127.0.0.1:1", "u", "p", "127.0.0.1:1")
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n[store]\nbackend = \"etcd\"\nendpoints = [\"http://127.0.0.1:1\"]\nreceipts = %q\n", filepath.Join(dir, "receipts"))
	f.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "-config", cfgPath, filepath.Join(dir, "b.db")}, "store copy -config " + cfgPath + " -to bbolt"},
		{[]string{"restore", "-config", cfgPath, filepath.Join(dir, "b.db")}, "store copy"},
		{[]string{"export", "-config", cfgPath, "-format", "csv"}, "on etcd the command goes through a running instance"},
		{[]string{"org-link", "-config", cfgPath, "list"}, "on etcd the command goes through the instance that leads"},
	} {
		var out, errOut strings.Builder
		err := run(context.Background(), tc.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s on etcd: %v, want an error saying %q", tc.args[0], err, tc.want)
		}
		if _, serr := os.Stat(filepath.Join(dir, "unused.db")); serr == nil {
			t.Errorf("%s on etcd created the bbolt file", tc.args[0])
		}
	}
}
