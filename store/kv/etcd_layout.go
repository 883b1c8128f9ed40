package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Key layout of the etcd driver. Every key lives under the prefix P
// (EtcdOptions.Prefix); bucket names are non-empty and never contain
// 0x00, keys are any non-empty bytes:
//
//	P "b/" bucket                       bucket marker: the bucket exists.
//	                                    Value: its sequence, 8 bytes big-endian.
//	P "d/" bucket 0x00 key              data key. Value: a tag byte, then either
//	                                    the value itself (tagInline) or a chunk
//	                                    pointer (tagChunked, see chunkPointer).
//	P "c/" bucket 0x00 len key gen idx  chunk idx of generation gen of key's value:
//	                                    len is len(key), 4 bytes big-endian; gen 8
//	                                    bytes big-endian; idx 4 bytes big-endian.
//
// Data keys of one bucket are contiguous and in key order, so a bucket
// is one etcd range. The length before the key in a chunk key makes the
// chunks of one key one etcd prefix (P "c/" bucket 0x00 len key) that no
// other key's chunks share, even when keys contain 0x00 or one key is a
// prefix of another: a commit can delete every generation of a key's
// chunks but one with two DeleteRange operations.
//
// A value larger than InlineMax is written in chunks under a fresh random
// generation before the data key that points to it; the same commit
// deletes the key's chunks of every other generation. Chunks whose
// commit failed are deleted when the driver knows it failed, and
// otherwise when the key is next written or deleted.
const (
	markerSpace = "b/"
	dataSpace   = "d/"
	chunkSpace  = "c/"

	tagInline  byte = 0
	tagChunked byte = 1

	// chunkPointerLen is the size of a chunked data value: tag, gen,
	// chunk count, total length, CRC-32C of the value.
	chunkPointerLen = 1 + 8 + 4 + 8 + 4
	// chunkSuffixLen is the size of gen and idx at the end of a chunk key.
	chunkSuffixLen = 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type layout struct{ prefix string }

func (l layout) markerKey(bucket string) string { return l.prefix + markerSpace + bucket }

// markerRange returns the range holding every bucket marker.
func (l layout) markerRange() (start, end string) {
	start = l.prefix + markerSpace
	return start, clientv3.GetPrefixRangeEnd(start)
}

// dataPrefix returns the prefix of bucket's data keys.
func (l layout) dataPrefix(bucket string) string { return l.prefix + dataSpace + bucket + "\x00" }

// chunkBase returns the prefix of every chunk key of key in bucket.
func (l layout) chunkBase(bucket string, key []byte) string {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(key)))
	return l.prefix + chunkSpace + bucket + "\x00" + string(n[:]) + string(key)
}

// chunkGenPrefix returns the prefix of the chunk keys of one generation.
func chunkGenPrefix(base string, gen uint64) string {
	return base + string(binary.BigEndian.AppendUint64(nil, gen))
}

func chunkKey(base string, gen uint64, idx uint32) string {
	b := binary.BigEndian.AppendUint64(nil, gen)
	b = binary.BigEndian.AppendUint32(b, idx)
	return base + string(b)
}

func validBucketName(name string) error {
	if name == "" {
		return errors.New("kv: empty bucket name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("kv: bucket name %q contains 0x00", name)
	}
	return nil
}

// chunkPointer is what a data key holds for a chunked value.
type chunkPointer struct {
	gen    uint64
	count  uint32
	length uint64
	crc    uint32
}

func encodeInline(v []byte) string {
	b := make([]byte, 1+len(v))
	b[0] = tagInline
	copy(b[1:], v)
	return string(b)
}

func (p chunkPointer) encode() string {
	b := make([]byte, 1, chunkPointerLen)
	b[0] = tagChunked
	b = binary.BigEndian.AppendUint64(b, p.gen)
	b = binary.BigEndian.AppendUint32(b, p.count)
	b = binary.BigEndian.AppendUint64(b, p.length)
	b = binary.BigEndian.AppendUint32(b, p.crc)
	return string(b)
}

// decodeData splits a data key's value into the inline value (non-nil,
// possibly empty) or the chunk pointer.
func decodeData(raw []byte) (inline []byte, p chunkPointer, chunked bool, err error) {
	switch {
	case len(raw) >= 1 && raw[0] == tagInline:
		return raw[1:len(raw):len(raw)], p, false, nil
	case len(raw) == chunkPointerLen && raw[0] == tagChunked:
		p.gen = binary.BigEndian.Uint64(raw[1:])
		p.count = binary.BigEndian.Uint32(raw[9:])
		p.length = binary.BigEndian.Uint64(raw[13:])
		p.crc = binary.BigEndian.Uint32(raw[21:])
		return nil, p, true, nil
	}
	return nil, p, false, fmt.Errorf("unknown data value encoding (%d bytes)", len(raw))
}

func encodeSequence(n uint64) string { return string(binary.BigEndian.AppendUint64(nil, n)) }

func decodeSequence(raw []byte) (uint64, error) {
	if len(raw) != 8 {
		return 0, fmt.Errorf("bucket marker holds %d bytes, not an 8-byte sequence", len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}
