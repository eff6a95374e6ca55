// Package codec is the Go binding of libcodec: streaming zstd, LZ4 (frame format and block
// streaming) and xz / LZMA with a flush on every format, decoders whose whole state can be
// cloned or marshalled to bytes mid-frame and restored in another process, and shared
// dictionaries.
//
// Compress with a Writer (an io.WriteCloser: Flush makes everything written so far
// decodable without ending the frame, Close ends it), decompress with a Reader (an
// io.Reader that can be cloned, marshalled and resumed), or use the one-shot Compress and
// Decompress. Errors from the library are *Error values carrying the C status and
// libcodec's message; compare them with errors.Is(err, codec.ErrCorrupt) and friends.
//
// Writers, Readers and Dicts own C handles: Close them when done (a finalizer frees what is
// forgotten, but only when the garbage collector gets to it). A Writer or Reader is used by
// one goroutine at a time; a Dict may be shared by any number of goroutines, Writers and
// Readers.
//
// The package is cgo over libcodec's C API (codec.h), which takes flat pointers and never
// keeps a pointer to Go memory after a call returns. See docs/go.md for building against an
// installed libcodec (pkg-config) or the repository's own build.
package codec

/*
#include <stdlib.h>
#include <codec.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
)

// Format is a compression format (the C CODEC_FORMAT_* values).
type Format int32

const (
	// Auto detects zstd, LZ4 frame, xz and .lzma by their first bytes (decoders only).
	Auto Format = C.CODEC_FORMAT_AUTO
	// Zstd is the Zstandard frame format.
	Zstd Format = C.CODEC_FORMAT_ZSTD
	// LZ4 is the LZ4 frame format.
	LZ4 Format = C.CODEC_FORMAT_LZ4_FRAME
	// LZ4Blocks is LZ4 block streaming with length-prefixed blocks (python-lz4's lz4.stream).
	LZ4Blocks Format = C.CODEC_FORMAT_LZ4_BLOCKS
	// XZ is the .xz container.
	XZ Format = C.CODEC_FORMAT_XZ
	// LZMA2 is raw LZMA2 with no container (the decoder must be told the dictionary size).
	LZMA2 Format = C.CODEC_FORMAT_LZMA2_RAW
	// LZMA is the legacy .lzma format (LZMA1; it cannot flush).
	LZMA Format = C.CODEC_FORMAT_LZMA_ALONE
)

var formatNames = map[Format]string{
	Auto: "auto", Zstd: "zstd", LZ4: "lz4", LZ4Blocks: "lz4blocks", XZ: "xz", LZMA2: "lzma2", LZMA: "lzma",
}

// Formats lists every concrete format.
var Formats = []Format{Zstd, LZ4, LZ4Blocks, XZ, LZMA2, LZMA}

// String gives the short name: "zstd", "lz4", "lz4blocks", "xz", "lzma2", "lzma" or "auto".
func (f Format) String() string {
	if s, ok := formatNames[f]; ok {
		return s
	}
	return fmt.Sprintf("Format(%d)", int32(f))
}

// ParseFormat accepts the names String gives (case-insensitive).
func ParseFormat(name string) (Format, error) {
	for f, s := range formatNames {
		if strings.EqualFold(s, name) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("codec: unknown format %q (auto, zstd, lz4, lz4blocks, xz, lzma2, lzma)", name)
}

// Status is a libcodec status: 0 success, > 0 informational, < 0 an error.
type Status int32

// The statuses libcodec defines (values never change).
const (
	StatusOK          Status = C.CODEC_OK
	StatusMoreOutput  Status = C.CODEC_MORE_OUTPUT
	StatusFrameEnd    Status = C.CODEC_FRAME_END
	StatusNull        Status = C.CODEC_E_NULL
	StatusInvalid     Status = C.CODEC_E_INVALID
	StatusUnsupported Status = C.CODEC_E_UNSUPPORTED
	StatusSequence    Status = C.CODEC_E_SEQUENCE
	StatusCorrupt     Status = C.CODEC_E_CORRUPT
	StatusChecksum    Status = C.CODEC_E_CHECKSUM
	StatusTruncated   Status = C.CODEC_E_TRUNCATED
	StatusDict        Status = C.CODEC_E_DICT
	StatusMemLimit    Status = C.CODEC_E_MEMLIMIT
	StatusBuffer      Status = C.CODEC_E_BUFFER
	StatusState       Status = C.CODEC_E_STATE
	StatusNoMem       Status = C.CODEC_E_NOMEM
	StatusPanic       Status = C.CODEC_E_PANIC
	StatusInternal    Status = C.CODEC_E_INTERNAL
)

// String is the C name, e.g. "CODEC_E_CORRUPT".
func (s Status) String() string { return C.GoString(C.codec_status_name(C.int(s))) }

// Error is a failure reported by libcodec.
type Error struct {
	Status  Status // the C status, negative
	Op      string // what failed, e.g. "decode", "codec_decoder_unmarshal"
	Message string // libcodec's explanation (for corrupt data it names the input byte offset)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("codec: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Status.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, codec.ErrCorrupt) true for every *Error with that status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.Status == e.Status
}

// Sentinels for errors.Is, one per error status.
var (
	ErrNull        = &Error{Status: StatusNull}
	ErrInvalid     = &Error{Status: StatusInvalid}
	ErrUnsupported = &Error{Status: StatusUnsupported}
	ErrSequence    = &Error{Status: StatusSequence}
	ErrCorrupt     = &Error{Status: StatusCorrupt}
	ErrChecksum    = &Error{Status: StatusChecksum}
	ErrTruncated   = &Error{Status: StatusTruncated}
	ErrDict        = &Error{Status: StatusDict}
	ErrMemLimit    = &Error{Status: StatusMemLimit}
	ErrBuffer      = &Error{Status: StatusBuffer}
	ErrState       = &Error{Status: StatusState}
	ErrNoMem       = &Error{Status: StatusNoMem}
	ErrPanic       = &Error{Status: StatusPanic}
	ErrInternal    = &Error{Status: StatusInternal}
)

// ErrClosed is returned for any use of a Writer, Reader or Dict after Close.
var ErrClosed = fmt.Errorf("codec: use of a closed handle")

// handleless runs a libcodec call that has no handle to keep its error message on, and
// fetches codec_last_error() on the same OS thread (it is thread-local in the library).
func handleless(op string, call func() C.codec_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := call()
	if st >= 0 {
		return nil
	}
	return &Error{Status: Status(st), Op: op, Message: C.GoString(C.codec_last_error())}
}

// Version is the loaded library's version string, with the zstd, lz4 and liblzma inside.
func Version() string { return C.GoString(C.codec_version_string()) }

// VersionNumber is the loaded library's MAJOR*10000 + MINOR*100 + PATCH.
func VersionNumber() uint32 { return uint32(C.codec_version_number()) }

// HeaderVersionNumber is the version of codec.h this package was compiled with.
const HeaderVersionNumber = C.CODEC_VERSION_NUMBER
