package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateReport = flag.Bool("update", false, "rewrite the want section of testdata/*.txt from Parse's output")

// reportCase is one file of testdata: a txtar-like file with
// "-- subject --", "-- body --" and "-- want --" sections (the want is the
// expected Report as JSON). Text before the first section is a comment.
// Section markers end in "\n"; subject and body lose one final "\n".
type reportCase struct {
	comment, subject, body string
	want                   Report
}

const (
	rcSubject = "-- subject --\n"
	rcBody    = "-- body --\n"
	rcWant    = "-- want --\n"
)

func readReportCase(data []byte) (reportCase, error) {
	s := string(data) // byte-exact: a body may hold "\r\n" on purpose
	is, ib, iw := strings.Index(s, rcSubject), strings.Index(s, rcBody), strings.Index(s, rcWant)
	if is < 0 || ib < is || iw < ib {
		return reportCase{}, fmt.Errorf("want sections %q, %q, %q in that order", rcSubject, rcBody, rcWant)
	}
	c := reportCase{
		comment: s[:is],
		subject: strings.TrimSuffix(s[is+len(rcSubject):ib], "\n"),
		body:    strings.TrimSuffix(s[ib+len(rcBody):iw], "\n"),
	}
	if err := json.Unmarshal([]byte(s[iw+len(rcWant):]), &c.want); err != nil {
		return reportCase{}, fmt.Errorf("want: %w", err)
	}
	return c, nil
}

func writeReportCase(c reportCase) ([]byte, error) {
	w, err := json.MarshalIndent(c.want, "", "  ")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(c.comment)
	b.WriteString(rcSubject + c.subject + "\n")
	b.WriteString(rcBody + c.body + "\n")
	b.WriteString(rcWant)
	b.Write(w)
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func loadReportCases(t testing.TB) map[string]reportCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]reportCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := readReportCase(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases[f] = c
	}
	return cases
}

// sameReport compares reports treating nil and empty component lists alike.
func sameReport(a, b Report) bool {
	if len(a.Components) == 0 && len(b.Components) == 0 {
		a.Components, b.Components = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func TestParseReportCorpus(t *testing.T) {
	cases := loadReportCases(t)
	if len(cases) < 30 {
		t.Errorf("corpus has %d cases, want at least 30", len(cases))
	}
	for file, c := range cases {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got := Parse(c.subject, c.body)
			if *updateReport {
				c.want = got
				data, err := writeReportCase(c)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !sameReport(got, c.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(c.want, "", "  ")
				t.Errorf("Parse mismatch\n got: %s\nwant: %s", g, w)
			}
		})
	}
}

func TestReportCaseRoundTrip(t *testing.T) {
	c := reportCase{comment: "note\n", subject: "S", body: "a\n\nb", want: Report{Site: "X", CanReplicate: ReplicateNo}}
	data, err := writeReportCase(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readReportCase(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.comment != c.comment || back.subject != c.subject || back.body != c.body || !sameReport(back.want, c.want) {
		t.Errorf("round trip: got %+v, want %+v", back, c)
	}
	if _, err := readReportCase([]byte("-- body --\nx\n-- want --\n{}")); err == nil {
		t.Error("readReportCase accepted a file without a subject section")
	}
}

func TestParseReplicate(t *testing.T) {
	tests := map[string]Replicate{
		"yes": ReplicateYes, "Y": ReplicateYes, "Yes - every time": ReplicateYes, "yes, every time.": ReplicateYes,
		"Always": ReplicateYes, "sometimes": ReplicateYes, "Intermittently": ReplicateYes, "not always": ReplicateYes,
		"yeah": ReplicateYes, "every time we try": ReplicateYes, "we can": ReplicateYes, "only sometimes": ReplicateYes,
		"no": ReplicateNo, "N": ReplicateNo, "No.": ReplicateNo, "not able": ReplicateNo, "Unable to": ReplicateNo,
		"can't": ReplicateNo, "Can’t": ReplicateNo, "cannot": ReplicateNo, "only once": ReplicateNo, "Only once so far": ReplicateNo,
		"never again": ReplicateNo, "no - it only happened once": ReplicateNo,
		"": ReplicateUnknown, "not sure": ReplicateUnknown, "n/a": ReplicateUnknown, "haven't tried": ReplicateUnknown,
		"Don't know": ReplicateUnknown, "the sky is blue": ReplicateUnknown, "?": ReplicateUnknown, "No idea": ReplicateUnknown,
	}
	for in, want := range tests {
		if got := ParseReplicate(in); got != want {
			t.Errorf("ParseReplicate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseReportLabelsWinOverProse(t *testing.T) {
	body := "We can't reproduce it at our Northgate site; it says \"Timeout\" in Attendance.\n\n" +
		"Site: Southgate\nComponent: Payments\nError: E42\nCan replicate: yes\n"
	got := Parse("", body)
	want := Report{Site: "Southgate", Components: []string{"Payments"}, ErrorMessage: "E42", CanReplicate: ReplicateYes}
	if !sameReport(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// An explicit "n/a" answer to a label is not overridden by prose.
	got = Parse("Attendance at our Northgate site", "Site: n/a\nComponents: n/a\n")
	if got.Site != "" || len(got.Components) != 0 {
		t.Errorf("placeholder answers were filled from prose: %+v", got)
	}
}

func FuzzParseReport(f *testing.F) {
	for _, c := range loadReportCases(f) {
		f.Add(c.subject, c.body)
	}
	f.Add("", "Error: \"unterminated\nSite:\n\n\n- \n* **")
	f.Add("it says '", "Components:\n- a\n- A\n-\n")
	f.Fuzz(func(t *testing.T, subject, body string) {
		a := Parse(subject, body)
		b := Parse(subject, body)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %+v vs %+v", a, b)
		}
		switch a.CanReplicate {
		case ReplicateYes, ReplicateNo, ReplicateUnknown:
		default:
			t.Fatalf("CanReplicate = %q", a.CanReplicate)
		}
		seen := map[string]bool{}
		for _, c := range a.Components {
			k := strings.ToLower(c)
			if c == "" || c != strings.TrimSpace(c) || seen[k] {
				t.Fatalf("bad component list %q", a.Components)
			}
			seen[k] = true
		}
		for _, v := range []string{a.Site, a.Level, a.ActionTaken, a.ErrorMessage} {
			if v != strings.TrimSpace(v) {
				t.Fatalf("value %q not trimmed", v)
			}
		}
	})
}

func BenchmarkParseReport(b *testing.B) {
	cases := loadReportCases(b)
	var in []reportCase
	for _, c := range cases {
		in = append(in, c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := in[i%len(in)]
		Parse(c.subject, c.body)
	}
}
