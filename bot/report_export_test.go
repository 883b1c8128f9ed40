package bot_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"rfadesk/bot"
)

func TestExportAllAndOneOrganisation(t *testing.T) {
	f := newFixture(t)
	storeReportFixture(t, f)
	ctx := context.Background()

	var c bytes.Buffer
	if err := f.desk.Export(ctx, &c, bot.ExportCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 1+7 || rows[1][0] != "RFA-1" || rows[7][0] != "RFA-7" {
		t.Fatalf("CSV export: %v rows, %v", len(rows), err)
	}
	var j bytes.Buffer
	if err := f.desk.Export(ctx, &j, bot.ExportJSON); err != nil {
		t.Fatal(err)
	}
	var sums []bot.RFASummary
	if err := json.Unmarshal(j.Bytes(), &sums); err != nil || len(sums) != 7 {
		t.Fatalf("JSON export: %d summaries, %v\n%s", len(sums), err, j.String())
	}
	for _, s := range sums {
		if s.Token != "" {
			t.Errorf("%s: export carries the status-page token", bot.FormatRef(s.Num))
		}
	}
	if err := f.desk.Export(ctx, io.Discard, "xlsx"); !errors.Is(err, bot.ErrBadQuery) {
		t.Errorf("format xlsx: %v", err)
	}

	var a bytes.Buffer
	if err := f.desk.ExportOrganisation(ctx, &a, "ash school"); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&a)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	for _, name := range []string{"RFA-1/rfa.json", "RFA-2/rfa.json", "RFA-4/rfa.json", "RFA-2/attachments/0-0-shot.png"} {
		if _, ok := files[name]; !ok {
			t.Errorf("archive lacks %s (has %d files)", name, len(files))
		}
	}
	if _, ok := files["RFA-3/rfa.json"]; ok {
		t.Error("archive of Ash School carries Birch School's RFA-3")
	}
	if !strings.Contains(files["RFA-2/rfa.json"], "the register is broken") {
		t.Error("archive's RFA-2 lacks its message text")
	}
}
