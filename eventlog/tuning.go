package eventlog

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Compression is how Badger compresses the blocks of its tables.
type Compression uint8

// Compressions. The zero value takes the default of the one opening the
// database (ZSTD for the log and for the views).
const (
	CompressionDefault Compression = iota
	CompressionNone
	CompressionSnappy
	CompressionZSTD
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionSnappy:
		return "snappy"
	case CompressionZSTD:
		return "zstd"
	}
	return "default"
}

// Tuning sizes a Badger database: the log's and the views' are tuned
// apart. A zero field takes the default of the one opening the database
// (DefaultLogTuning, projections' DefaultTuning); doc.go gives the reasons
// for the log's.
type Tuning struct {
	// Compression of table blocks. Compressed blocks need a block cache.
	Compression Compression
	// BlockCacheBytes is the cache of decompressed blocks, on the Go
	// heap; -1 disables it (allowed only without compression).
	BlockCacheBytes int64
	// MemTableBytes is the size of one memtable, NumMemtables how many
	// are kept (the one written and those waiting to be flushed). Both are
	// on the Go heap. Larger ones flush less often and let ingest run faster.
	MemTableBytes int64
	NumMemtables  int
	// NumLevelZeroTables is how many tables level 0 holds before it is
	// compacted into level 1.
	NumLevelZeroTables int
	// BaseTableBytes is the size of the tables of level 1 (deeper levels'
	// grow by a factor of 2 a level).
	BaseTableBytes int64
	// NumCompactors is how many compactions may run at once.
	NumCompactors int
	// ValueLogFileBytes is the size of one value log file. Values stay in
	// the tables (they are under Badger's value threshold), so these files
	// stay nearly empty; but they are created at twice this size
	// (apparent, not allocated), which is what ls and df-like tools show.
	ValueLogFileBytes int64
}

// DefaultLogTuning is the log's Tuning.
var DefaultLogTuning = Tuning{
	Compression:        CompressionZSTD,
	BlockCacheBytes:    16 << 20,
	MemTableBytes:      32 << 20,
	NumMemtables:       3,
	NumLevelZeroTables: 4,
	BaseTableBytes:     2 << 20,
	NumCompactors:      2,
	ValueLogFileBytes:  16 << 20,
}

// Or returns t with every zero field taken from d.
func (t Tuning) Or(d Tuning) Tuning {
	or := func(v, d int64) int64 {
		if v == 0 {
			return d
		}
		return v
	}
	if t.Compression == CompressionDefault {
		t.Compression = d.Compression
	}
	t.BlockCacheBytes = or(t.BlockCacheBytes, d.BlockCacheBytes)
	t.MemTableBytes = or(t.MemTableBytes, d.MemTableBytes)
	t.NumMemtables = int(or(int64(t.NumMemtables), int64(d.NumMemtables)))
	t.NumLevelZeroTables = int(or(int64(t.NumLevelZeroTables), int64(d.NumLevelZeroTables)))
	t.BaseTableBytes = or(t.BaseTableBytes, d.BaseTableBytes)
	t.NumCompactors = int(or(int64(t.NumCompactors), int64(d.NumCompactors)))
	t.ValueLogFileBytes = or(t.ValueLogFileBytes, d.ValueLogFileBytes)
	return t
}

// Apply sets t's fields on o. It returns an error for a compression
// without a block cache (Badger would panic at open).
func (t Tuning) Apply(o badger.Options) (badger.Options, error) {
	cache := max(t.BlockCacheBytes, 0)
	c := options.None
	switch t.Compression {
	case CompressionSnappy:
		c = options.Snappy
	case CompressionZSTD:
		c = options.ZSTD
	}
	if c != options.None && cache == 0 && !o.InMemory {
		return o, fmt.Errorf("eventlog: tuning: %s compression needs a block cache", t.Compression)
	}
	if o.InMemory {
		// Tests: tables are never built, nothing to cache.
		c, cache = options.None, 0
	}
	return o.WithCompression(c).
		WithZSTDCompressionLevel(1).
		WithBlockCacheSize(cache).
		WithIndexCacheSize(0).
		WithMemTableSize(t.MemTableBytes).
		WithNumMemtables(t.NumMemtables).
		WithNumLevelZeroTables(t.NumLevelZeroTables).
		WithBaseTableSize(t.BaseTableBytes).
		WithNumCompactors(t.NumCompactors).
		WithValueLogFileSize(t.ValueLogFileBytes), nil
}
