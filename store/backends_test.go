package store

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"rfadesk/bot"
	"rfadesk/store/kv"
)

// The store's tests run on every kv driver. A test that is not about
// bbolt files gets its store from newTestDB, or from newTestBackend when
// it closes and reopens the store; both pick the driver by the test's
// name: under TestOnEtcd an etcd database, otherwise a bbolt file in
// t.TempDir(). TestOnEtcd runs every such test (driverTests) again on
// etcd. The tests about bbolt files (the v1 fixture, crafted old files,
// backups, file locks) open files with Open or openTest and are listed,
// with the reason, in boltOnlyTests; TestEveryTestHasABackendList checks
// that each test of the package is in exactly one of the two lists.

// onEtcd starts the name of every test TestOnEtcd runs.
const onEtcd = "TestOnEtcd/"

// onEtcdDBs holds, by subtest name, the database TestOnEtcd made for
// each subtest it runs, until the subtest's newTestBackend takes it.
var onEtcdDBs sync.Map // string -> kv.DB

// testBackend is where one test's store lives, so that it can be closed
// and opened again on the same data.
type testBackend struct {
	t    testing.TB
	path string // bbolt: the file
	kdb  kv.DB  // etcd: the database, open for the whole test
}

// newTestBackend picks t's backend by its name (see above).
func newTestBackend(t testing.TB) *testBackend {
	t.Helper()
	b := &testBackend{t: t}
	if !strings.HasPrefix(t.Name(), onEtcd) {
		b.path = filepath.Join(t.TempDir(), "rfadesk.db")
		return b
	}
	// The database TestOnEtcd made for this test (a subtest of it runs
	// under its name).
	name := t.Name()
	if i := strings.IndexByte(name[len(onEtcd):], '/'); i >= 0 {
		name = name[:len(onEtcd)+i]
	}
	kdb, ok := onEtcdDBs.LoadAndDelete(name)
	if !ok {
		t.Fatalf("%s: no etcd database (one store per TestOnEtcd test, made by TestOnEtcd)", t.Name())
	}
	b.kdb = kdb.(kv.DB)
	return b
}

// open opens the store: empty the first time, then with what the store
// held when it was last closed. The store is closed when the test ends
// (closing it earlier is fine). On bbolt it opens the file again; on etcd
// it opens the store again over the same driver (the data is the
// cluster's; TestOnEtcd closes the driver).
func (b *testBackend) open() *DB {
	b.t.Helper()
	var db *DB
	var err error
	if b.kdb != nil {
		db, err = OpenOn(b.t.Context(), keepOpen{b.kdb}, "etcd ("+b.t.Name()+")")
	} else {
		db, err = Open(b.path, &Options{NoSync: true})
	}
	if err != nil {
		b.t.Fatalf("open the store: %v", err)
	}
	b.t.Cleanup(func() {
		// A second Close of a closed store is allowed by both drivers'
		// use here: bbolt ignores it, keepOpen has nothing to close.
		if err := db.Close(); err != nil {
			b.t.Errorf("close the store: %v", err)
		}
	})
	return db
}

// newTestDB returns an empty store for t on t's backend, closed when the
// test ends.
func newTestDB(t testing.TB) *DB {
	t.Helper()
	return newTestBackend(t).open()
}

// keepOpen is a kv.DB whose Close leaves the database open, so that a
// test can close its store and open it again over the same client.
type keepOpen struct{ kv.DB }

func (keepOpen) Close() error { return nil }

// driverTests are the tests that hold on every driver: each gets its
// store from newTestDB or newTestBackend.
func driverTests() []func(*testing.T) {
	return []func(*testing.T){
		// backends_test.go
		TestOpenOnMigratesAndRefusesNewerSchema,
		TestBoltOnlyFeaturesOnEachBackend,
		// attach_test.go
		TestAttachWritesNothingAndMigrateBringsUpToDate,
		// store_test.go
		TestCanceledContextRefused,
		TestViewRefusesWrites,
		TestTxUnusableAfterReturn,
		TestUpdateErrorRollsBackEverything,
		TestUpdatePanicRollsBack,
		TestRFANumbersIncreaseAcrossReopen,
		TestPutRFAAdvancesAllocator,
		TestConcurrentUpdatesNeverShareANumber,
		// tx_test.go
		TestRFARoundTrip,
		TestRFASummariesInNumberOrder,
		TestDedupeAndThreads,
		TestOutboxOrderUpdateDelete,
		TestCursorRoundTrip,
		TestDeadLetters,
		TestAutoReplies,
		TestAttachments,
		// rfa_records_test.go
		TestTextsLiveOutsideTheRecord,
		TestPutRFAWithoutTextsKeepsThem,
		TestPutRFARefusesAChangedText,
		TestSummaryFollowsTheRFA,
		TestRFASummariesPages,
		// rfa_indexes_test.go
		TestPutRFAKeepsTheOpenIndex,
		TestPutRFAKeepsTheJeopardySchedule,
		TestEscalationPolicyFingerprint,
		// rfa_counts_test.go
		TestRFACountsFollowEveryPutRFA,
		TestRFACountsRollBackWithTheirTransaction,
		TestRFACountKeyRefusesNUL,
		TestBreachedIndexHoldsOpenRFAsWithABreach,
		// rfa_links_test.go
		TestLinkedIndexFollowsParent,
		// org_index_test.go
		TestOrgIndexNewestFirstPagedAndNeverAnotherOrg,
		TestOrgIndexFollowsACorrectedOrganisation,
		TestOrgLinksStoreOnlyTheHashAndRevoke,
		// outbox_test.go
		TestDueOutboxByKindAndNextAttempt,
		TestOutboxAttachmentStoredOnceAndFreedWithItsLastItem,
		TestOutboxRollbackLeavesNoIndexOrBlob,
		TestOutboxItemGolden,
		// the rest
		TestGaugesReadCountsBacklogAndSchedule,
		TestRFARecordGolden,
		TestOutagesStoredAndIndexed,
		TestDeleteRFAContentTakesOneRFAsTextsAndFiles,
		TestRateStateRoundTrip,
		TestReleaseIndexFollowsRFAs,
	}
}

// boltOnlyTests are the tests that do not run on etcd, and why.
var boltOnlyTests = map[string]string{
	"TestOpenWritesSchemaAndBuckets":                    "inspects the file with bbolt",
	"TestOpenRefusesNewerSchema":                        "writes a bbolt file",
	"TestOpenMigratesVersionZeroFile":                   "an empty bbolt file",
	"TestOpenRefusesNonBoltFile":                        "a file that is not bbolt",
	"TestOpenLockedFile":                                "bbolt's file lock",
	"TestWriteV1Fixture":                                "writes the v1 fixture file",
	"TestMigrationToV2MovesTextsOutInPlace":             "migrates the v1 fixture file",
	"TestMigrationAddsRateStates":                       "migrates the v1 fixture file",
	"TestMigrationIndexesOutboxAndMovesAttachmentBytes": "migrates a crafted v1 file",
	"TestMigrationBuildsTheIndexes":                     "migrates a crafted v1 file",
	"TestMigrationToV6CountsExistingRFAs":               "migrates the v1 fixture file, then a crafted v5 one",
	"TestMigrationToV7IndexesOrganisations":             "migrates the v1 fixture file",
	"TestMigrationToV8IndexesLinks":                     "migrates the v1 fixture file",
	"TestMigrationToV8FillsLinksFromRecords":            "migrates a crafted v7 file",
	"TestMigrationToV10IndexesReleases":                 "migrates a crafted v9 file",
	"TestBackupSnapshotOfALiveStoreOpens":               "a backup streams a bbolt file",
	"TestBackupOpenSnapshotRefusesAStoreInUse":          "a backup streams a bbolt file",
	"TestVerifyBackupRefuses":                           "checks bbolt files",
	"TestOrgRFAsCostDoesNotGrowWithTheArchive":          "allocation bound of bbolt's B-tree; loads 6600 RFAs in one transaction",
	"TestDueOutboxCostDoesNotGrowWithTheOutbox":         "allocation bound of bbolt's B-tree; loads 5000 items in one transaction",
	"TestGoldenRFAHasEveryField":                        "no store: checks the golden RFA",
	"TestAttachmentKeyLayout":                           "no store: a key encoding",
	"TestReceiptsAppendAllTruncateReopen":               "no store: the receipt log file",
	"TestReceiptsTornTailIsIgnoredAndCut":               "no store: the receipt log file",
	"TestReceiptsCorruptRecordEndsTheLog":               "no store: the receipt log file",
	"TestReceiptsPathIsBesideTheDatabase":               "no store: the receipt log file",
	"TestReceiptsRoundTripEveryField":                   "no store: the receipt log file",
}

// testName is the name of a test function, as go test reports it.
func testName(fn func(*testing.T)) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name() // rfadesk/store.TestX
	return full[strings.LastIndexByte(full, '.')+1:]
}

// TestOnEtcd runs driverTests on etcd, each as a subtest named after it,
// in parallel (each has a key space of its own).
func TestOnEtcd(t *testing.T) {
	if etcdBackend == nil {
		t.Skip("no etcd backend: etcdBackend is set by the etcd driver's tests")
	}
	for _, fn := range driverTests() {
		name := t.Name() + "/" + testName(fn)
		kdb := etcdBackend(t)
		onEtcdDBs.Store(name, kdb)
		t.Cleanup(func() {
			onEtcdDBs.Delete(name)
			if err := kdb.Close(); err != nil {
				t.Errorf("close the etcd database of %s: %v", name, err)
			}
		})
		t.Run(testName(fn), func(t *testing.T) {
			t.Parallel()
			fn(t)
		})
	}
}

// TestEveryTestHasABackendList: every test function of the package is in
// driverTests or in boltOnlyTests, not both, and neither names a test
// that does not exist; so a new test has to say whether etcd runs it.
func TestEveryTestHasABackendList(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := map[string]bool{}
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
				declared[fd.Name.Name] = true
			}
		}
	}
	listed := map[string]bool{"TestOnEtcd": true, "TestEveryTestHasABackendList": true}
	for _, fn := range driverTests() {
		name := testName(fn)
		if _, ok := boltOnlyTests[name]; ok {
			t.Errorf("%s is in driverTests and in boltOnlyTests", name)
		}
		if listed[name] {
			t.Errorf("%s is listed twice", name)
		}
		listed[name] = true
	}
	for name := range boltOnlyTests {
		listed[name] = true
	}
	for name := range declared {
		if !listed[name] {
			t.Errorf("%s is in neither driverTests nor boltOnlyTests (backends_test.go): say whether it holds on etcd", name)
		}
	}
	for name := range listed {
		if !declared[name] {
			t.Errorf("%s is listed but not declared", name)
		}
	}
}

// TestOpenOnMigratesAndRefusesNewerSchema: OpenOn brings an empty
// database to the current layout (every bucket of schema.go, no other,
// and the version), and refuses one a newer rfadesk wrote with a
// *SchemaError naming the store, leaving it as it was.
func TestOpenOnMigratesAndRefusesNewerSchema(t *testing.T) {
	db := newTestDB(t)
	kdb := db.KV()
	var names []string
	err := kdb.View(t.Context(), func(tx kv.Tx) error {
		return tx.ForEachBucket(func(name string, _ kv.Bucket) error {
			names = append(names, name)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(allBuckets())); !slices.Equal(names, want) {
		t.Errorf("buckets of a new store = %q\nwant %q", names, want)
	}
	st, err := db.Stats(t.Context())
	if err != nil || st.SchemaVersion != schemaVersion {
		t.Errorf("schema version of a new store = %d, %v; want %d", st.SchemaVersion, err, schemaVersion)
	}

	newer := uint64(schemaVersion + 1)
	err = kdb.Update(t.Context(), func(tx kv.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(keySchemaVersion), encodeU64(newer))
	})
	if err != nil {
		t.Fatal(err)
	}
	again, err := OpenOn(t.Context(), keepOpen{kdb}, "the newer store")
	if err == nil {
		again.Close()
		t.Fatal("OpenOn of a store at a newer schema succeeded")
	}
	var se *SchemaError
	if !errors.As(err, &se) || se.Path != "the newer store" || se.Version != newer || se.Supports != schemaVersion {
		t.Errorf("OpenOn of a newer store: %v, want a *SchemaError naming it", err)
	}
	err = kdb.View(t.Context(), func(tx kv.Tx) error {
		if n, _ := decodeU64(tx.Bucket(bucketMeta).Get([]byte(keySchemaVersion))); n != newer {
			t.Errorf("refused store's version rewritten to %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltOnlyFeaturesOnEachBackend: on bbolt the store has a file, its
// size and a backup snapshot; on another backend it has none, and the
// snapshot's error says why and what to do instead. The bbolt driver
// seen through another type (keepOpen) counts as another backend: what
// only bbolt can do is chosen by the driver OpenOn was given.
func TestBoltOnlyFeaturesOnEachBackend(t *testing.T) {
	db := newTestDB(t)
	update(t, db, func(tx bot.Tx) error { return tx.PutRFA(sampleRFA(1)) })
	if _, isFile := db.File(); isFile {
		checkBoltFeatures(t, db)
	} else {
		checkNoBoltFeatures(t, db)
	}
	other, err := OpenOn(t.Context(), keepOpen{db.KV()}, "a store on another driver")
	if err != nil {
		t.Fatal(err)
	}
	checkNoBoltFeatures(t, other)
}

func checkBoltFeatures(t *testing.T, db *DB) {
	t.Helper()
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	snap, err := db.Snapshot(nil)
	if err != nil {
		t.Fatalf("Snapshot on bbolt: %v", err)
	}
	defer snap.Close()
	if path, _ := db.File(); path != db.Name() || path != db.Path() {
		t.Errorf("File() = %q, Name() = %q, Path() = %q: want one path", path, db.Name(), db.Path())
	}
	if st.FileBytes <= 0 || snap.Size() != st.FileBytes {
		t.Errorf("FileBytes = %d, snapshot of %d bytes", st.FileBytes, snap.Size())
	}
}

func checkNoBoltFeatures(t *testing.T, db *DB) {
	t.Helper()
	if path, isFile := db.File(); isFile {
		t.Errorf("File() = %q, true on a store that is not bbolt", path)
	}
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.FileBytes != 0 || st.RFAs != 1 {
		t.Errorf("Stats = %+v, want no FileBytes and 1 RFA", st)
	}
	snap, err := db.Snapshot(nil)
	if !errors.Is(err, ErrNotBolt) {
		if snap != nil {
			snap.Close()
		}
		t.Fatalf("Snapshot without a file: %v, want ErrNotBolt", err)
	}
	for _, want := range []string{db.Name(), "rfadesk store copy -to bbolt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Snapshot error %q does not mention %q", err, want)
		}
	}
}
