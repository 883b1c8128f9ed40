package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Etcd is the etcd driver: the buckets live under one key prefix of an
// etcd cluster that several rfadesk instances share, one of which leads
// and writes (see Fence). The key layout is described in etcd_layout.go.
//
// Concurrency contract. Update calls of one Etcd are serialised by a
// mutex, and the driver assumes it is the only writer of its prefix:
// rfadesk runs one writer per process, and one leader in the cluster,
// enforced by the fence every commit carries. A transaction therefore
// never retries on conflict; it reads at one snapshot revision, keeps its
// writes in memory, and sends them in one etcd Txn when fn returns. Two
// unfenced writers of one prefix would overwrite each other's reads
// silently: set RequireFence wherever more than one instance can run.
//
// View calls run concurrently with each other and with Update; each sees
// the store at one revision. Every network call takes the context passed
// to Update or View, and a read that fails makes the transaction's error
// sticky as the package comment describes.
type Etcd struct {
	cli    *clientv3.Client
	opts   EtcdOptions
	layout layout

	writer chan struct{} // holds one token while an Update runs
	fence  atomic.Pointer[Fence]

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

var _ DB = (*Etcd)(nil)

// EtcdOptions configures NewEtcd. A nil *EtcdOptions, and every zero
// field, means the default.
type EtcdOptions struct {
	// Prefix is the key prefix every key of this database lives under;
	// default "/rfadesk/". It must end in "/".
	Prefix string
	// PageSize is the number of keys one range read asks for; default
	// 256. No read asks for a whole bucket at once.
	PageSize int
	// InlineMax is the largest value stored in its data key; larger
	// values are stored in chunks. Default 64 KiB.
	InlineMax int
	// ChunkSize is the number of bytes per chunk of a large value;
	// default 512 KiB, at most 1 MiB (etcd refuses requests over
	// 1.5 MiB by default).
	ChunkSize int
	// MaxTxnOps is the largest number of operations one commit may send
	// in its etcd Txn; a commit needing more is refused with an error
	// before anything is sent. It must not exceed the cluster's
	// --max-txn-ops (etcd's own default is 128; rfadesk's clusters run
	// with 8192). Default 8192.
	MaxTxnOps int
	// RequireFence makes every commit that writes anything fail with
	// ErrNotLeader while no Fence is set.
	RequireFence bool
	// RequestTimeout bounds each request to etcd (one read, one Txn),
	// so that a transaction on a connection etcd no longer answers (a
	// partition) fails instead of hanging; default 5s. A long View is
	// many requests and is not bounded as a whole.
	RequestTimeout time.Duration
}

// Defaults of EtcdOptions.
const (
	DefaultEtcdPrefix    = "/rfadesk/"
	DefaultEtcdPageSize  = 256
	DefaultEtcdInlineMax = 64 << 10
	DefaultEtcdChunkSize = 512 << 10
	DefaultEtcdMaxTxnOps = 8192
	// DefaultEtcdRequestTimeout is EtcdOptions.RequestTimeout's default.
	DefaultEtcdRequestTimeout = 5 * time.Second
)

// requestBudget is the size the driver keeps every etcd request under,
// well below etcd's default --max-request-bytes of 1.5 MiB, so that the
// estimate of a request's size may be rough.
const requestBudget = 1 << 20

// Validate reports what is wrong with o, after defaults are applied.
func (o *EtcdOptions) Validate() error {
	_, err := o.withDefaults()
	return err
}

func (o *EtcdOptions) withDefaults() (EtcdOptions, error) {
	var r EtcdOptions
	if o != nil {
		r = *o
	}
	if r.Prefix == "" {
		r.Prefix = DefaultEtcdPrefix
	}
	if r.PageSize == 0 {
		r.PageSize = DefaultEtcdPageSize
	}
	if r.InlineMax == 0 {
		r.InlineMax = DefaultEtcdInlineMax
	}
	if r.ChunkSize == 0 {
		r.ChunkSize = DefaultEtcdChunkSize
	}
	if r.MaxTxnOps == 0 {
		r.MaxTxnOps = DefaultEtcdMaxTxnOps
	}
	if r.RequestTimeout <= 0 {
		r.RequestTimeout = DefaultEtcdRequestTimeout
	}
	var errs []error
	if !strings.HasSuffix(r.Prefix, "/") {
		errs = append(errs, fmt.Errorf("prefix %q does not end in /", r.Prefix))
	}
	if r.PageSize < 2 {
		errs = append(errs, fmt.Errorf("page size %d is below 2", r.PageSize))
	}
	if r.InlineMax < 0 || r.InlineMax > requestBudget/2 {
		errs = append(errs, fmt.Errorf("inline max %d is outside 0..%d", r.InlineMax, requestBudget/2))
	}
	if r.ChunkSize < 1 || r.ChunkSize > requestBudget {
		errs = append(errs, fmt.Errorf("chunk size %d is outside 1..%d", r.ChunkSize, requestBudget))
	}
	if r.MaxTxnOps < 4 {
		errs = append(errs, fmt.Errorf("max txn ops %d is below 4", r.MaxTxnOps))
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("kv: etcd options: %w", errors.Join(errs...))
	}
	return r, nil
}

// NewEtcd returns the etcd driver over cli. It does not own cli: Close
// leaves it open. NewEtcd does no I/O. It panics when opts is invalid
// (see EtcdOptions.Validate, which configuration loading should call).
func NewEtcd(cli *clientv3.Client, opts *EtcdOptions) *Etcd {
	o, err := opts.withDefaults()
	if err != nil {
		panic(err)
	}
	return &Etcd{
		cli:    cli,
		opts:   o,
		layout: layout{prefix: o.Prefix},
		writer: make(chan struct{}, 1),
	}
}

// Prefix returns the key prefix the database lives under.
func (e *Etcd) Prefix() string { return e.opts.Prefix }

// SetFence sets the leadership later commits depend on; the zero Fence
// (or one with an empty Key or a Rev below 1) means "not leading": with
// RequireFence commits that write are refused, without it they are sent
// unfenced. A commit reads the fence once, when it starts, and every Txn
// it sends carries it. Safe for concurrent use.
func (e *Etcd) SetFence(f Fence) { e.fence.Store(&f) }

func (e *Etcd) currentFence() Fence {
	if f := e.fence.Load(); f != nil {
		return *f
	}
	return Fence{}
}

// errClosed is returned by Update and View after Close.
var errClosed = errors.New("kv: etcd database closed")

// ErrCommitUnknown is wrapped by the error of an Update whose commit was
// sent but whose outcome is unknown (a timeout, a lost connection): the
// writes may or may not have been applied. Callers that write under
// idempotency keys can retry.
var ErrCommitUnknown = errors.New("kv: commit outcome unknown: the transaction may or may not have been applied")

func (e *Etcd) begin() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	e.running.Add(1)
	return nil
}

// Update implements DB. ctx bounds the wait for the writer's turn, every
// read, and the commit. When fn returns nil and no read failed, the
// writes are sent as described in etcd_commit.go; a failed fence returns
// an error wrapping ErrNotLeader, and a commit whose outcome is unknown
// one wrapping ErrCommitUnknown.
//
// When a read inside fn failed, Update returns that error, joined with
// fn's when fn returned a different one, and commits nothing.
func (e *Etcd) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kv: update not started: %w", err)
	}
	if err := e.begin(); err != nil {
		return err
	}
	defer e.running.Done()
	select {
	case e.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("kv: update not started: %w", ctx.Err())
	}
	defer func() { <-e.writer }()
	tx := &etcdTx{ctx: ctx, db: e, writable: true}
	fnErr := fn(tx)
	if fnErr != nil || tx.err != nil {
		return tx.result(fnErr)
	}
	return tx.commit()
}

// View implements DB. ctx bounds every read of the transaction. As in
// Update, a failed read's error is returned, joined with fn's when fn
// returned a different one.
func (e *Etcd) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kv: view not started: %w", err)
	}
	if err := e.begin(); err != nil {
		return err
	}
	defer e.running.Done()
	tx := &etcdTx{ctx: ctx, db: e}
	return tx.result(fn(tx))
}

// Close implements DB: it waits for running transactions, then refuses
// new ones. It does not close the client.
func (e *Etcd) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.running.Wait()
	return nil
}

// request returns ctx bounded by the request timeout, for one request.
func (e *Etcd) request(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.opts.RequestTimeout)
}
