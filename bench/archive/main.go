// Command archive measures what must not grow with the archive (issue
// #8): it builds a store of N RFAs through the project's own types (5%
// open, the rest closed, about 4.5 KB each), lets a real desk arm its
// jeopardy schedule once, and then prints, beside the same figures for
// an empty store, start-up to escalations armed (warm and cold cache),
// resident memory at rest and while serving, the status page, one RFA's
// JSON, GET /api/rfas pages, the /desk queue data, intake of one mail,
// one outbox pass's read and a full export.
//
//	go run ./bench/archive                 # 1,000,000 RFAs in a temporary store
//	go run ./bench/archive -n 100000
//	go run ./bench/archive -store /tmp/a.db  # build once, reuse on the next run
//
// Each store is measured in a fresh process (the command runs itself
// with -child), so that its memory figures are the desk's alone and not
// the build's; intake and the outbox read, which must cost the same on
// both, are measured on both stores in one process, alternating. It prints figures, not verdicts: there are no
// pass/fail thresholds, the machine may be shared and noisy.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "archive:", err)
		os.Exit(1)
	}
}

// run parses args and either measures one store (-measure, printing its
// figures as JSON) or does the whole comparison.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("archive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1_000_000, "RFAs in the archive (5% open)")
	storePath := fs.String("store", "", "the archive's file: reused if it exists, built and kept if not (default: a temporary file, deleted after)")
	child := fs.String("child", "", "used by the command itself: `compare` EMPTY ARCHIVE, or measure PATH LAST; prints the figures as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child != "" {
		return runChild(ctx, *child, fs.Args(), stdout)
	}
	if *n < openEvery {
		return fmt.Errorf("-n %d: want at least %d RFAs", *n, openEvery)
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	tmp, err := os.MkdirTemp("", "rfadesk-archive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	emptyPath := filepath.Join(tmp, "empty.db")
	if _, err := prepare(ctx, emptyPath, 0, logf); err != nil {
		return err
	}
	archivePath := *storePath
	if archivePath == "" {
		archivePath = filepath.Join(tmp, "archive.db")
	}
	var prep preparation
	if _, err := os.Stat(archivePath); err == nil {
		logf("reusing %s", archivePath)
	} else if prep, err = prepare(ctx, archivePath, *n, logf); err != nil {
		return err
	}

	logf("intake and the outbox, on both stores in turn")
	var c compared
	if err := inChild(ctx, stderr, &c, "compare", emptyPath, archivePath); err != nil {
		return err
	}
	logf("measuring the empty store")
	var empty, archive figures
	if err := inChild(ctx, stderr, &empty, "measure", emptyPath, strconv.FormatUint(c.Last[0], 10)); err != nil {
		return err
	}
	logf("measuring the archive")
	if err := inChild(ctx, stderr, &archive, "measure", archivePath, strconv.FormatUint(c.Last[1], 10)); err != nil {
		return err
	}
	printTable(stdout, machine(), prep, &c, &empty, &archive)
	return nil
}

// runChild takes one child's figures (see -child) and prints them as JSON.
func runChild(ctx context.Context, what string, args []string, stdout io.Writer) error {
	var figs any
	var err error
	switch {
	case what == "compare" && len(args) == 2:
		figs, err = compare(ctx, [2]string{args[0], args[1]})
	case what == "measure" && len(args) == 2:
		var last uint64
		if last, err = strconv.ParseUint(args[1], 10, 64); err != nil || last == 0 {
			return fmt.Errorf("-child measure %s %s: want the store's last RFA number", args[0], args[1])
		}
		figs, err = measure(ctx, args[0], last)
	default:
		return fmt.Errorf("-child %s %q: want compare EMPTY ARCHIVE, or measure PATH LAST", what, args)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(figs)
}

// preparation is what building an archive cost.
type preparation struct {
	Built   bool
	Build   time.Duration // writing the RFAs (NoSync)
	Rebuild time.Duration // the desk's first start-up, arming every open RFA
	Armed   int           // open RFAs the first start-up scheduled
}

// prepare builds a store of n RFAs at path and starts a desk on it once,
// which computes every open RFA's next escalation point (the rebuild
// after a policy change) and stores the policy's fingerprint.
func prepare(ctx context.Context, path string, n int, logf func(string, ...any)) (preparation, error) {
	p := preparation{Built: n > 0}
	t0 := time.Now()
	if err := buildArchive(ctx, path, n, logf); err != nil {
		return p, err
	}
	p.Build = time.Since(t0)
	if n > 0 {
		logf("built %d RFAs in %v; arming the schedule", n, p.Build.Round(time.Second))
	}
	t0 = time.Now()
	rd, st, err := startDesk(ctx, path)
	if err != nil {
		return p, err
	}
	rd.close()
	p.Rebuild, p.Armed = time.Since(t0), st.Rescheduled
	if st.Rebuilt != n/openEvery || st.Fired != 0 {
		return p, fmt.Errorf("arming %s: %+v, want %d open RFAs read and nothing fired", path, st, n/openEvery)
	}
	return p, nil
}

// inChild runs this command with -child and args in a fresh process
// and decodes the figures it prints into figs.
func inChild(ctx context.Context, stderr io.Writer, figs any, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, self, append([]string{"-child"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("-child %q: %w", args, err)
	}
	if err := json.Unmarshal(out.Bytes(), figs); err != nil {
		return errors.Join(fmt.Errorf("-child %q: reading its figures", args), err)
	}
	return nil
}
