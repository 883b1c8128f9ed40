package kv_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"rfadesk/store/kv"
)

// forward is a bucket's content as "key=value" strings, in the order met.
func forward(t *testing.T, b kv.Bucket) []string {
	t.Helper()
	var out []string
	if err := b.ForEach(func(k, v []byte) error {
		out = append(out, fmt.Sprintf("%q=%q", k, v))
		return nil
	}); err != nil {
		t.Fatalf("ForEach: %v", err)
	}
	c := b.Cursor()
	var viaCursor []string
	for k, v := c.First(); k != nil; k, v = c.Next() {
		viaCursor = append(viaCursor, fmt.Sprintf("%q=%q", k, v))
	}
	if !slices.Equal(out, viaCursor) {
		t.Fatalf("ForEach saw %v, cursor First/Next saw %v", out, viaCursor)
	}
	return out
}

func backward(b kv.Bucket) []string {
	var out []string
	c := b.Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		out = append(out, fmt.Sprintf("%q=%q", k, v))
	}
	return out
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func testCursorEdges(t *testing.T, s subject) {
	var keys []string
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		mustBucket(t, tx, "empty")
		b := mustBucket(t, tx, "b")
		for i := range 10 {
			keys = append(keys, fmt.Sprintf("k%02d", 2*i)) // k00, k02 ... k18
			mustPut(t, b, keys[i], "v")
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		e := tx.Bucket("empty").Cursor()
		for name, move := range map[string]func() ([]byte, []byte){
			"First": e.First, "Last": e.Last, "Next": e.Next, "Prev": e.Prev,
			"Seek": func() ([]byte, []byte) { return e.Seek([]byte("k")) },
		} {
			if k, v := move(); k != nil || v != nil {
				t.Errorf("empty bucket: %s = %q, %q", name, k, v)
			}
		}
		b := tx.Bucket("b")
		type step struct {
			move string
			arg  string
			want string // "" means nil
		}
		steps := []step{
			{"First", "", "k00"}, {"Prev", "", ""}, {"Next", "", "k02"}, // off the start, the cursor stays on k00
			{"Next", "", "k04"}, {"Next", "", "k06"}, {"Next", "", "k08"}, {"Prev", "", "k06"}, {"Next", "", "k08"},
			{"Last", "", "k18"}, {"Next", "", ""}, {"Prev", "", "k16"}, // off the end, it stays on k18
			{"Seek", "k07", "k08"}, {"Prev", "", "k06"}, {"Prev", "", "k04"}, {"Prev", "", "k02"}, {"Prev", "", "k00"}, {"Prev", "", ""},
			{"Seek", "k10", "k10"}, {"Next", "", "k12"},
			{"Seek", "", "k00"}, {"Seek", "a", "k00"},
			{"Seek", "k18", "k18"}, {"Next", "", ""},
			{"Seek", "k19", ""}, {"Prev", "", "k18"}, // after a Seek past the end, Prev is the last key
			{"Seek", "z", ""}, {"Next", "", ""},
		}
		c := b.Cursor()
		for i, st := range steps {
			var k, v []byte
			switch st.move {
			case "First":
				k, v = c.First()
			case "Last":
				k, v = c.Last()
			case "Next":
				k, v = c.Next()
			case "Prev":
				k, v = c.Prev()
			case "Seek":
				k, v = c.Seek([]byte(st.arg))
			}
			if string(k) != st.want || (k == nil) != (st.want == "") || (k != nil && string(v) != "v") {
				t.Errorf("step %d %s(%s) = %q, %q; want %q", i, st.move, st.arg, k, v, st.want)
			}
		}
		// Long walks in both directions cross every page boundary.
		var fw, bw []string
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			fw = append(fw, string(k))
		}
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			bw = append(bw, string(k))
		}
		if !slices.Equal(fw, keys) || !slices.Equal(bw, reversed(keys)) {
			t.Errorf("forward %v, backward %v; want %v", fw, bw, keys)
		}
		if n := b.KeyN(); n != 10 {
			t.Errorf("KeyN = %d, want 10", n)
		}
		return nil
	})
}

func testOverlay(t *testing.T, s subject) {
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		for i := range 10 {
			mustPut(t, b, fmt.Sprintf("k%02d", i), "old")
		}
		return nil
	})
	want := []string{`"a"="new"`, `"k00"="old"`, `"k01"="old"`, `"k02"="old"`, `"k03"="new"`, `"k04"="old"`,
		`"k055"="new"`, `"k06"="old"`, `"k07"="old"`, `"k08"="old"`, `"k10"="new"`}
	check := func(b kv.Bucket, where string) {
		t.Helper()
		if got := forward(t, b); !slices.Equal(got, want) {
			t.Errorf("%s: forward %v\nwant %v", where, got, want)
		}
		if got := backward(b); !slices.Equal(got, reversed(want)) {
			t.Errorf("%s: backward %v", where, got)
		}
		if n := b.KeyN(); n != len(want) {
			t.Errorf("%s: KeyN = %d, want %d", where, n, len(want))
		}
		if v := b.Get([]byte("k05")); v != nil {
			t.Errorf("%s: deleted k05 = %q", where, v)
		}
		if v := b.Get([]byte("k03")); string(v) != "new" {
			t.Errorf("%s: k03 = %q", where, v)
		}
		c := b.Cursor()
		if k, _ := c.Seek([]byte("k05")); string(k) != "k055" {
			t.Errorf("%s: Seek(k05) = %q, want k055", where, k)
		}
		if k, _ := c.Prev(); string(k) != "k04" {
			t.Errorf("%s: Prev after Seek(k05) = %q, want k04", where, k)
		}
		if k, _ := c.Seek([]byte("k09")); string(k) != "k10" {
			t.Errorf("%s: Seek(k09) = %q, want k10", where, k)
		}
	}
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		mustPut(t, b, "k03", "new")
		mustPut(t, b, "k055", "new")
		mustPut(t, b, "a", "new")
		mustPut(t, b, "k10", "new")
		mustPut(t, b, "k09", "doomed") // put, then deleted in the same tx
		for _, k := range []string{"k05", "k09", "never-existed"} {
			if err := b.Delete([]byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		check(b, "writing tx")
		// A bucket created in this tx is walked from its writes alone.
		nb := mustBucket(t, tx, "new")
		mustPut(t, nb, "y", "1")
		mustPut(t, nb, "x", "1")
		if got := forward(t, nb); !slices.Equal(got, []string{`"x"="1"`, `"y"="1"`}) || nb.KeyN() != 2 {
			t.Errorf("new bucket: %v, KeyN %d", got, nb.KeyN())
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		check(mustBucket(t, tx, "b"), "after commit")
		return nil
	})
}

// testDeleteWhileIterating deletes as store.purge does: Delete, then Seek
// the prefix again. (Next after Delete differs between the drivers.)
func testDeleteWhileIterating(t *testing.T, s subject) {
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		for i := range 12 {
			mustPut(t, b, fmt.Sprintf("p/%02d", i), "v")
			mustPut(t, b, fmt.Sprintf("q/%02d", i), "v")
		}
		return nil
	})
	mustUpdate(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		mustPut(t, b, "p/99", "pending") // a pending put is deleted too
		c := b.Cursor()
		prefix := []byte("p/")
		n := 0
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				t.Fatal(err)
			}
			if n++; n > 100 {
				t.Fatal("the deletion loop does not end")
			}
		}
		if n != 13 {
			t.Errorf("deleted %d keys, want 13", n)
		}
		if k, _ := c.First(); string(k) != "q/00" {
			t.Errorf("First after deleting p/ = %q", k)
		}
		return nil
	})
	mustView(t, s.db, func(tx kv.Tx) error {
		b := mustBucket(t, tx, "b")
		if n := b.KeyN(); n != 12 {
			t.Errorf("KeyN = %d, want 12", n)
		}
		if k, _ := b.Cursor().First(); string(k) != "q/00" {
			t.Errorf("First = %q", k)
		}
		return nil
	})
}
