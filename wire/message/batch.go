package message

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Batch body of SEND_BATCH_MESSAGE (wire-protocol.md §9.5): a concatenation
// of items, all integers big-endian. The request header carries the common
// topic, queue id, sysFlag and born timestamp.
//
//	 off  size  field
//	+----+-----+---------------------------------------------+
//	|   0|    4| TOTALSIZE  this item, this field included   |
//	|   4|    4| MAGICCODE  clients send 0; not checked      |
//	|   8|    4| BODYCRC    clients send 0; broker recomputes|
//	|  12|    4| FLAG                                        |
//	|  16|  4+n| BODYLEN + BODY                              |
//	|20+n|  2+p| PROPERTIESLEN + PROPERTIES (p <= 32767)     |
//	+----+-----+---------------------------------------------+
//
// TOTALSIZE = 22 + n + p.

// batchItemBytesMin is an item with empty body and properties.
const batchItemBytesMin = 22

// BatchItem is one message of a SEND_BATCH_MESSAGE body (wire doc §9.5).
type BatchItem struct {
	Flag       int32
	Body       []byte
	Properties string
}

// DecodeBatch splits a batch body into items. Bodies alias b (capacity
// clipped); Properties are copies. It rejects an empty batch, a TOTALSIZE
// that disagrees with the item's lengths and trailing bytes; errors wrap
// ErrCorrupt. It never panics.
func DecodeBatch(b []byte) ([]BatchItem, error) {
	return decodeBatch(make([]BatchItem, 0, min(len(b)/batchItemBytesMin, 64)), b, true)
}

// DecodeBatchView is DecodeBatch appending the items to dst (a scratch slice
// the caller reuses) with Properties aliasing b instead of copied: they are
// valid only while b stays unchanged. For a caller that copies everything
// it keeps out of the items before b can change (the send path encodes them
// into records at once), so a batch of n items costs no allocation.
func DecodeBatchView(dst []BatchItem, b []byte) ([]BatchItem, error) {
	return decodeBatch(dst, b, false)
}

func decodeBatch(items []BatchItem, b []byte, copyProps bool) ([]BatchItem, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty batch", ErrCorrupt)
	}
	be := binary.BigEndian
	first := len(items) // items before the batch's (DecodeBatchView's dst)
	for p := 0; p < len(b); {
		rest := b[p:]
		if len(rest) < batchItemBytesMin {
			return nil, fmt.Errorf("%w: batch item %d: %d bytes left, need %d", ErrCorrupt, len(items)-first, len(rest), batchItemBytesMin)
		}
		size := int(int32(be.Uint32(rest)))
		if size < batchItemBytesMin || size > len(rest) {
			return nil, fmt.Errorf("%w: batch item %d: total size %d, %d bytes left", ErrCorrupt, len(items)-first, size, len(rest))
		}
		item := rest[:size]
		bodyLen := int(int32(be.Uint32(item[16:])))
		if bodyLen < 0 || bodyLen > size-batchItemBytesMin {
			return nil, fmt.Errorf("%w: batch item %d: body length %d in %d bytes", ErrCorrupt, len(items)-first, bodyLen, size)
		}
		propsAt := 20 + bodyLen
		propsLen := int(be.Uint16(item[propsAt:]))
		if propsLen > PropertiesBytesMax {
			return nil, fmt.Errorf("%w: batch item %d: properties length %d > %d", ErrCorrupt, len(items)-first, propsLen, PropertiesBytesMax)
		}
		if propsAt+2+propsLen != size {
			return nil, fmt.Errorf("%w: batch item %d: total size %d, fields add up to %d", ErrCorrupt, len(items)-first, size, propsAt+2+propsLen)
		}
		it := BatchItem{Flag: int32(be.Uint32(item[12:]))}
		if bodyLen > 0 {
			it.Body = item[20 : 20+bodyLen : 20+bodyLen]
		}
		if props := item[propsAt+2:]; len(props) > 0 {
			if copyProps {
				it.Properties = string(props)
			} else {
				it.Properties = unsafe.String(&props[0], len(props))
			}
		}
		items = append(items, it)
		p += size
	}
	return items, nil
}

// EstimateBatchItems guesses how many items a batch body holds from its
// length and its first item's TOTALSIZE alone: exact when the items are of
// one size (producers batch like messages), for sizing buffers before
// DecodeBatchView. Walking every TOTALSIZE was rejected: the body is cold
// in the cache when a turn sizes its buffer, so the walk paid one miss per
// item, which the decode right after pays again only for the first item.
// It is at least 1 for a body of at least one item header, 0 for less, and
// never panics.
func EstimateBatchItems(b []byte) int {
	if len(b) < batchItemBytesMin {
		return 0
	}
	size := max(int(int32(binary.BigEndian.Uint32(b))), batchItemBytesMin)
	return max(len(b)/size, 1)
}

// AppendBatchItem appends one encoded item to dst as clients write it
// (MAGICCODE and BODYCRC 0). For tests and tools; the caller keeps the
// properties within PropertiesBytesMax.
func AppendBatchItem(dst []byte, it BatchItem) []byte {
	be := binary.BigEndian
	size := batchItemBytesMin + len(it.Body) + len(it.Properties)
	dst = be.AppendUint32(dst, uint32(size))
	dst = be.AppendUint32(dst, 0)
	dst = be.AppendUint32(dst, 0)
	dst = be.AppendUint32(dst, uint32(it.Flag))
	dst = be.AppendUint32(dst, uint32(len(it.Body)))
	dst = append(dst, it.Body...)
	dst = be.AppendUint16(dst, uint16(len(it.Properties)))
	return append(dst, it.Properties...)
}

// EncodeBatch encodes items as a SEND_BATCH_MESSAGE body (see
// AppendBatchItem).
func EncodeBatch(items []BatchItem) []byte {
	n := 0
	for _, it := range items {
		n += batchItemBytesMin + len(it.Body) + len(it.Properties)
	}
	dst := make([]byte, 0, n)
	for _, it := range items {
		dst = AppendBatchItem(dst, it)
	}
	return dst
}
