package codec

/*
#include <codec.h>
*/
import "C"

import (
	"bytes"
	"io"
	"runtime"
	"unsafe"
)

// Compress compresses src into one frame (options as for NewWriter).
func Compress(format Format, src []byte, opts ...Option) ([]byte, error) {
	var buf bytes.Buffer
	if n := CompressBound(format, len(src)); n > 0 {
		buf.Grow(n)
	}
	w, err := NewWriter(&buf, format, append(opts, pledgeFor(format, uint64(len(src))))...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(src); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pledgeFor is WithPledgedSize for the formats that record the size in their header (zstd,
// LZ4 frame), and no option for the others.
func pledgeFor(format Format, n uint64) Option {
	if format == Zstd || format == LZ4 {
		return WithPledgedSize(n)
	}
	return func(*config) {}
}

// Decompress decompresses every frame in src (format may be Auto; options as for
// NewReader). Input that ends inside a frame is an error with StatusTruncated.
func Decompress(format Format, src []byte, opts ...Option) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(src), format, opts...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out bytes.Buffer
	if _, err := io.Copy(&out, r); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// CompressBound is an upper bound of the size of n bytes compressed in one frame with
// default parameters (0 for a format the library does not know).
func CompressBound(format Format, n int) int {
	return int(C.codec_compress_bound(C.codec_format(format), C.size_t(n)))
}

// DetectFormat identifies compressed data by its first bytes (at most 13 are needed): zstd,
// LZ4 frame, xz or .lzma. StatusTruncated: more bytes are needed; StatusUnsupported: none of
// them.
func DetectFormat(data []byte) (Format, error) {
	var f C.codec_format
	var src *C.uint8_t
	if len(data) > 0 {
		src = (*C.uint8_t)(unsafe.Pointer(&data[0]))
	}
	err := handleless("codec_detect_format", func() C.codec_status {
		return C.codec_detect_format(src, C.size_t(len(data)), &f)
	})
	runtime.KeepAlive(data)
	return Format(f), err
}

// Check is an integrity check type (CODEC_CHECK_*).
type Check int32

// Checks as reported by FrameInfo and accepted by ParamXZCheck.
const (
	CheckNone   Check = C.CODEC_CHECK_NONE
	CheckCRC32  Check = C.CODEC_CHECK_CRC32
	CheckCRC64  Check = C.CODEC_CHECK_CRC64
	CheckSHA256 Check = C.CODEC_CHECK_SHA256
	CheckXXH32  Check = C.CODEC_CHECK_XXH32
	CheckXXH64  Check = C.CODEC_CHECK_XXH64
)

// ContentSizeUnknown is FrameHeader.ContentSize when the frame does not record it.
const ContentSizeUnknown = ^uint64(0)

// FrameHeader is what FrameInfo learns from the start of a frame.
type FrameHeader struct {
	Format      Format
	HeaderSize  uint32
	ContentSize uint64 // ContentSizeUnknown when not recorded
	WindowSize  uint64 // window (zstd) or dictionary (xz, .lzma) size the decoder needs
	BlockSize   uint64 // LZ4 frame maximum block size
	DictID      uint32
	Checksum    Check
	Skippable   bool
}

// FrameInfo reads the frame (or stream) header at the start of data. format may be Auto.
func FrameInfo(format Format, data []byte) (FrameHeader, error) {
	var h C.codec_frame_header
	var src *C.uint8_t
	if len(data) > 0 {
		src = (*C.uint8_t)(unsafe.Pointer(&data[0]))
	}
	err := handleless("codec_frame_info", func() C.codec_status {
		return C.codec_frame_info(C.codec_format(format), src, C.size_t(len(data)), &h)
	})
	runtime.KeepAlive(data)
	if err != nil {
		return FrameHeader{}, err
	}
	return FrameHeader{
		Format: Format(h.format), HeaderSize: uint32(h.header_size), ContentSize: uint64(h.content_size),
		WindowSize: uint64(h.window_size), BlockSize: uint64(h.block_size), DictID: uint32(h.dict_id),
		Checksum: Check(h.checksum), Skippable: h.flags&C.CODEC_FRAME_FLAG_SKIPPABLE != 0,
	}, nil
}
