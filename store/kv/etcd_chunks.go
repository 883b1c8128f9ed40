package kv

import (
	"fmt"
	"hash/crc32"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// readChunks reassembles a chunked value, a few chunks per request, and
// checks it against its pointer.
func (tx *etcdTx) readChunks(base string, p chunkPointer) ([]byte, error) {
	if p.length > 1<<40 || p.count == 0 {
		return nil, fmt.Errorf("corrupt chunk pointer (%d chunks, %d bytes)", p.count, p.length)
	}
	chunkSize := (p.length + uint64(p.count) - 1) / uint64(p.count) // as written, whatever ChunkSize is now
	perPage := max(1, requestBudget/int(max(chunkSize, 1)))
	genPrefix := chunkGenPrefix(base, p.gen)
	from, end := genPrefix, clientv3.GetPrefixRangeEnd(genPrefix)
	v := make([]byte, 0, p.length)
	var n uint32
	for {
		resp := tx.get(from, clientv3.WithRange(end), clientv3.WithLimit(int64(perPage)))
		if resp == nil {
			return nil, tx.err
		}
		for _, kv := range resp.Kvs {
			if want := chunkKey(base, p.gen, n); string(kv.Key) != want {
				return nil, fmt.Errorf("chunk %d of generation %x is missing", n, p.gen)
			}
			v = append(v, kv.Value...)
			n++
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	switch {
	case n != p.count:
		return nil, fmt.Errorf("generation %x has %d chunks, want %d", p.gen, n, p.count)
	case uint64(len(v)) != p.length:
		return nil, fmt.Errorf("generation %x holds %d bytes, want %d", p.gen, len(v), p.length)
	case crc32.Checksum(v, castagnoli) != p.crc:
		return nil, fmt.Errorf("generation %x fails its checksum", p.gen)
	}
	return v, nil
}
