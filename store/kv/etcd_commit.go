package kv

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// How a commit reaches etcd.
//
// Everything a transaction wrote goes in one etcd Txn, the main Txn,
// guarded by the fence when one is set:
//
//	If(CreateRevision(fence.Key) == fence.Rev).Then(ops...)
//
// Operations per write: a Put of an inline value is 2 (the data key; one
// DeleteRange of the key's chunks left by earlier values), a Put of a
// chunked value is 3 (the pointer; two DeleteRanges of the key's chunks
// of every other generation), a Delete is 2 (the data key; its chunks),
// and each bucket created or whose sequence changed adds 1 (its marker).
// A commit needing more than MaxTxnOps is refused before anything is
// sent.
//
// A value larger than InlineMax is written first, in chunks, by separate
// Txns carrying the same fence, each kept under requestBudget bytes; so
// are the largest other values while the main Txn would exceed
// requestBudget. A deposed leader's first fenced Txn fails, so it writes
// nothing at all. If the main Txn then definitely fails, the chunks
// already written are deleted (unfenced: nothing points to them); if its
// outcome is unknown they are left, and go when the key is next written.

// opOverhead is a generous estimate of the protobuf framing of one
// operation of a Txn request.
const opOverhead = 24

// cleanupTimeout bounds the deletion of the chunks of a failed commit,
// which runs even when the transaction's context has ended.
const cleanupTimeout = 5 * time.Second

// dataWrite is one pending write of a data key.
type dataWrite struct {
	bucket  string
	key     []byte
	value   []byte
	deleted bool
	chunked bool
	gen     uint64
	base    string // chunkBase(bucket, key)
}

// commitPlan is what a commit sends.
type commitPlan struct {
	chunkTxns [][]clientv3.Op
	main      []clientv3.Op
	chunked   []*dataWrite
}

func (tx *etcdTx) commit() error {
	e := tx.db
	names := make([]string, 0, len(tx.buckets))
	for name := range tx.buckets {
		names = append(names, name)
	}
	slices.Sort(names)
	var markers []clientv3.Op
	var writes []*dataWrite
	for _, name := range names {
		b := tx.buckets[name]
		if b.created || b.seqChanged {
			markers = append(markers, clientv3.OpPut(e.layout.markerKey(name), encodeSequence(b.seq)))
		}
		for _, k := range b.ov.keys {
			p := b.ov.m[k]
			writes = append(writes, &dataWrite{
				bucket: name, key: []byte(k), value: p.value, deleted: p.deleted,
				base: e.layout.chunkBase(name, []byte(k)),
			})
		}
	}
	if len(markers) == 0 && len(writes) == 0 {
		return nil
	}
	fence := e.currentFence()
	if !fence.set() && e.opts.RequireFence {
		return fmt.Errorf("%w (no fence is set)", ErrNotLeader)
	}
	plan, err := e.plan(markers, writes)
	if err != nil {
		return err
	}
	if err := tx.ctx.Err(); err != nil {
		return fmt.Errorf("kv: commit not sent: %w", err)
	}
	return e.send(tx.ctx, fence, plan)
}

// set reports whether f names a leadership (see Fence); a Fence with an
// empty Key or a Rev below 1 counts as the zero Fence.
func (f Fence) set() bool { return f.Key != "" && f.Rev > 0 }

// plan decides which values go in chunks, counts the main Txn's
// operations and size, and builds every Txn's operations.
func (e *Etcd) plan(markers []clientv3.Op, writes []*dataWrite) (*commitPlan, error) {
	size, ops := 0, len(markers)
	for _, m := range markers {
		size += opOverhead + len(m.KeyBytes()) + len(m.ValueBytes())
	}
	inlineCost := func(w *dataWrite) int {
		return 2*opOverhead + len(e.layout.dataPrefix(w.bucket)) + len(w.key) + 1 + len(w.value) + 2*len(w.base) + 1
	}
	chunkedCost := func(w *dataWrite) int {
		return 3*opOverhead + len(e.layout.dataPrefix(w.bucket)) + len(w.key) + chunkPointerLen + 4*(len(w.base)+8)
	}
	var spillable []*dataWrite
	for _, w := range writes {
		switch {
		case w.deleted:
			size += inlineCost(w)
			ops += 2
		case len(w.value) > e.opts.InlineMax:
			w.chunked = true
			size += chunkedCost(w)
			ops += 3
		default:
			size += inlineCost(w)
			ops += 2
			spillable = append(spillable, w)
		}
	}
	if size > requestBudget {
		slices.SortStableFunc(spillable, func(a, b *dataWrite) int { return len(b.value) - len(a.value) })
		for _, w := range spillable {
			saving := inlineCost(w) - chunkedCost(w)
			if size <= requestBudget || saving <= 0 {
				break
			}
			w.chunked = true
			size -= saving
			ops++
		}
	}
	if ops > e.opts.MaxTxnOps {
		return nil, fmt.Errorf("kv: commit refused: it needs %d etcd operations in one Txn, more than the %d allowed "+
			"(EtcdOptions.MaxTxnOps, which must not exceed the cluster's --max-txn-ops); write less per transaction",
			ops, e.opts.MaxTxnOps)
	}
	if size > requestBudget {
		return nil, fmt.Errorf("kv: commit refused: its keys and pointers take about %d bytes in one etcd request, "+
			"more than the %d the driver sends (etcd's --max-request-bytes is 1.5 MiB by default); write less per transaction",
			size, requestBudget)
	}

	p := &commitPlan{main: markers}
	var group []clientv3.Op
	groupBytes := 0
	for _, w := range writes {
		dataKey := e.layout.dataPrefix(w.bucket) + string(w.key)
		switch {
		case w.deleted:
			p.main = append(p.main, clientv3.OpDelete(dataKey), clientv3.OpDelete(w.base, clientv3.WithPrefix()))
		case !w.chunked:
			p.main = append(p.main, clientv3.OpPut(dataKey, encodeInline(w.value)), clientv3.OpDelete(w.base, clientv3.WithPrefix()))
		default:
			w.gen = rand.Uint64N(math.MaxUint64)
			ptr := chunkPointer{gen: w.gen, length: uint64(len(w.value)), crc: crc32.Checksum(w.value, castagnoli)}
			for off := 0; off < len(w.value); off += e.opts.ChunkSize {
				piece := w.value[off:min(off+e.opts.ChunkSize, len(w.value))]
				key := chunkKey(w.base, w.gen, ptr.count)
				ptr.count++
				cost := opOverhead + len(key) + len(piece)
				if len(group) > 0 && (groupBytes+cost > requestBudget || len(group) == e.opts.MaxTxnOps) {
					p.chunkTxns = append(p.chunkTxns, group)
					group, groupBytes = nil, 0
				}
				group = append(group, clientv3.OpPut(key, string(piece)))
				groupBytes += cost
			}
			genStart := chunkGenPrefix(w.base, w.gen)
			p.main = append(p.main,
				clientv3.OpPut(dataKey, ptr.encode()),
				clientv3.OpDelete(w.base, clientv3.WithRange(genStart)),
				clientv3.OpDelete(chunkGenPrefix(w.base, w.gen+1), clientv3.WithRange(clientv3.GetPrefixRangeEnd(w.base))))
			p.chunked = append(p.chunked, w)
		}
	}
	if len(group) > 0 {
		p.chunkTxns = append(p.chunkTxns, group)
	}
	return p, nil
}

// send writes the chunks, then the main Txn, all under the fence.
func (e *Etcd) send(ctx context.Context, fence Fence, p *commitPlan) error {
	var cmps []clientv3.Cmp
	if fence.set() {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(fence.Key), "=", fence.Rev))
	}
	notLeader := fmt.Errorf("%w (fence %q at revision %d is gone)", ErrNotLeader, fence.Key, fence.Rev)
	for i, ops := range p.chunkTxns {
		rctx, cancel := e.request(ctx)
		resp, err := e.cli.Txn(rctx).If(cmps...).Then(ops...).Commit()
		cancel()
		if err != nil {
			e.dropChunks(ctx, p)
			return fmt.Errorf("kv: commit not applied: writing the chunks of large values: %w", err)
		}
		if !resp.Succeeded {
			if i > 0 {
				e.dropChunks(ctx, p)
			}
			return notLeader
		}
	}
	rctx, cancel := e.request(ctx)
	resp, err := e.cli.Txn(rctx).If(cmps...).Then(p.main...).Commit()
	cancel()
	switch {
	case err != nil && refusedBeforeApplying(err):
		e.dropChunks(ctx, p)
		return fmt.Errorf("kv: commit refused by etcd, nothing applied: %w", err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrCommitUnknown, err)
	case !resp.Succeeded:
		e.dropChunks(ctx, p)
		return notLeader
	}
	return nil
}

// refusedBeforeApplying reports whether err says etcd refused a request
// without applying it (a malformed or oversized request, missing rights,
// no space), as opposed to a timeout or lost connection after which the
// request may have been applied.
func refusedBeforeApplying(err error) bool {
	code := status.Code(err)
	if ce, ok := errors.AsType[interface {
		error
		Code() codes.Code
	}](err); ok {
		code = ce.Code()
	}
	switch code {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange, codes.PermissionDenied,
		codes.Unauthenticated, codes.ResourceExhausted, codes.Unimplemented:
		return true
	}
	return false
}

// dropChunks deletes, best effort, the chunks a failed commit wrote or
// may have written. Nothing points to them: their generations are fresh.
func (e *Etcd) dropChunks(ctx context.Context, p *commitPlan) {
	if len(p.chunked) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for batch := range slices.Chunk(p.chunked, e.opts.MaxTxnOps) {
		ops := make([]clientv3.Op, len(batch))
		for i, w := range batch {
			ops[i] = clientv3.OpDelete(chunkGenPrefix(w.base, w.gen), clientv3.WithPrefix())
		}
		if _, err := e.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			return // left for the next write of each key
		}
	}
}
