package tokencache

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// typicalEntryBytes is what an entry for an access token with a few claims
// is charged (EntrySize, about 1.5 KiB): MaxBytes divided by it is how many
// tokens the cache holds, which sizes the doorkeeper.
const typicalEntryBytes = 1536

// minDoorkeeperSlots keeps small caches' doorkeepers useful.
const minDoorkeeperSlots = 16

// doorkeeper decides which verified tokens enter the cache (admission, as
// the doorkeeper of TinyLFU): a token is admitted the second time it is
// verified while the doorkeeper still remembers the first. It remembers
// 64-bit fingerprints of recently verified tokens in a fixed array,
// direct-mapped (a newer token whose fingerprint maps to the same slot
// takes it), so its memory never grows and one-shot tokens cost a slot
// write each instead of an entry, its eviction and their garbage.
//
// A fingerprint only decides admission: an entry is found by the token's
// whole SHA-256 digest, so two tokens that share a fingerprint can at most
// get each other admitted early, never served for each other.
//
// A doorkeeper belongs to one shard and is used under the shard's lock.
type doorkeeper struct {
	slots []uint64
	mask  uint64
}

// doorkeeperSlots is the number of slots for a cache that holds up to
// entries tokens: the largest power of two not above it (at least
// minDoorkeeperSlots). A doorkeeper that remembered more distinct tokens
// than the cache holds would admit tokens that come back only after the
// cache would have evicted them.
func doorkeeperSlots(entries int) int {
	if entries < minDoorkeeperSlots {
		return minDoorkeeperSlots
	}
	return 1 << (bits.Len(uint(entries)) - 1)
}

func newDoorkeeper(slots int) doorkeeper {
	return doorkeeper{slots: make([]uint64, slots), mask: uint64(slots - 1)}
}

// fingerprint is 64 bits of key that the shard index (key[0]) does not use.
func fingerprint(key *[sha256.Size]byte) uint64 {
	fp := binary.LittleEndian.Uint64(key[8:16])
	if fp == 0 {
		fp = 1 // 0 marks an empty slot
	}
	return fp
}

// admit reports whether fp was seen since its slot was last taken by
// another fingerprint, and remembers fp.
func (d *doorkeeper) admit(fp uint64) bool {
	slot := &d.slots[fp&d.mask]
	if *slot == fp {
		return true
	}
	*slot = fp
	return false
}
