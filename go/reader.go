package codec

/*
#include <codec.h>
*/
import "C"

import (
	"fmt"
	"io"
	"runtime"
	"unsafe"
)

// Reader decompresses what it reads from an underlying io.Reader. It decodes concatenated
// frames, and reports a stream that ends inside a frame as an *Error with StatusTruncated
// (never as a clean io.EOF); the decoder is intact then, so it can still be marshalled and
// resumed once the rest of the input is available.
//
// Its decoder can be copied (Clone) or saved as bytes (Marshal) between any two Reads,
// mid-frame, and restored later in this or another process (Unmarshal / ResumeReader),
// continuing from the exact input offset.
//
// A Reader is used by one goroutine at a time.
type Reader struct {
	h       *C.codec_decoder
	src     io.Reader
	in      []byte
	start   int // in[start:end] was read from src and not yet taken by the decoder
	end     int
	pending bool // the decoder may hold input or output: call it even without new input
	srcEOF  bool
	err     error // sticky: io.EOF, truncated input, or a decoder error
	broken  bool  // the decoder itself failed: no Clone or Marshal
}

// NewReader returns a Reader decompressing r. format may be Auto (zstd, LZ4 frame, xz and
// .lzma are detected; LZ4Blocks and LZMA2 must be named).
func NewReader(r io.Reader, format Format, opts ...Option) (*Reader, error) {
	cfg := newConfig(opts)
	var h *C.codec_decoder
	if err := handleless("codec_decoder_new", func() C.codec_status {
		return C.codec_decoder_new(C.codec_format(format), &h)
	}); err != nil {
		return nil, err
	}
	rd := newReader(h, r, cfg.bufSize)
	if err := rd.configure(format, cfg); err != nil {
		rd.free()
		return nil, err
	}
	return rd, nil
}

func newReader(h *C.codec_decoder, r io.Reader, bufSize int) *Reader {
	rd := &Reader{h: h, src: r, in: make([]byte, bufSize)}
	runtime.SetFinalizer(rd, (*Reader).free)
	return rd
}

func (r *Reader) configure(format Format, cfg *config) error {
	for _, s := range cfg.settings {
		p, err := s.resolve(format)
		if err != nil {
			return err
		}
		if err := r.check("set "+p.String(), C.codec_decoder_set_param(r.h, C.codec_param(p), C.int64_t(s.value))); err != nil {
			return err
		}
	}
	if cfg.dict != nil {
		dh, err := cfg.dict.handle()
		if err != nil {
			return err
		}
		err = r.check("set dictionary", C.codec_decoder_set_dict(r.h, dh))
		runtime.KeepAlive(cfg.dict)
		return err
	}
	return nil
}

func (r *Reader) check(op string, st C.codec_status) error {
	defer runtime.KeepAlive(r)
	if st >= 0 {
		return nil
	}
	return &Error{Status: Status(st), Op: op, Message: C.GoString(C.codec_decoder_last_error(r.h))}
}

// Read decompresses into p. It returns io.EOF once the input has ended at a frame boundary
// and everything is delivered.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.h == nil {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.start < r.end || r.pending {
			var src *C.uint8_t
			if r.start < r.end {
				src = (*C.uint8_t)(unsafe.Pointer(&r.in[r.start]))
			}
			var read, written C.size_t
			st := C.codec_decoder_decode(r.h, src, C.size_t(r.end-r.start), &read,
				(*C.uint8_t)(unsafe.Pointer(&p[0])), C.size_t(len(p)), &written)
			runtime.KeepAlive(r)
			runtime.KeepAlive(p)
			r.start += int(read)
			r.pending = st == C.CODEC_MORE_OUTPUT
			if st < 0 {
				r.err = r.check("decode", st)
				r.broken = true
				return int(written), r.err
			}
			if written > 0 {
				return int(written), nil
			}
			if st == C.CODEC_FRAME_END || r.pending {
				continue // a new frame starts in the rest of the input
			}
		}
		if r.srcEOF {
			if C.codec_decoder_at_frame_edge(r.h) {
				r.err = io.EOF
			} else {
				consumed, _ := r.Position()
				r.err = &Error{Status: StatusTruncated, Op: "read",
					Message: fmt.Sprintf("the input ended inside a frame after %d bytes", consumed)}
			}
			runtime.KeepAlive(r)
			return 0, r.err
		}
		n, err := r.src.Read(r.in)
		r.start, r.end = 0, n
		if err == io.EOF {
			r.srcEOF = true
		} else if err != nil {
			return 0, err // not sticky: the caller may retry a temporary failure
		}
	}
}

// handOver gives the decoder the input this Reader has read ahead (codec_decoder_feed), so
// that its position and any copy or saved state account for everything taken from the
// source.
func (r *Reader) handOver() error {
	if r.h == nil {
		return ErrClosed
	}
	if r.broken {
		return r.err
	}
	if r.start < r.end {
		st := C.codec_decoder_feed(r.h, (*C.uint8_t)(unsafe.Pointer(&r.in[r.start])), C.size_t(r.end-r.start))
		runtime.KeepAlive(r)
		if err := r.check("feed", st); err != nil {
			return err
		}
		r.start = r.end
		r.pending = true // the fed input is decoded by the next calls
	}
	return nil
}

// Position gives the bytes of compressed input consumed and of output produced since the
// stream began (kept across Clone, Marshal and Unmarshal). consumed does not count input
// the Reader has read ahead from its source; after Clone or Marshal it does, so it then
// equals everything read from the source.
func (r *Reader) Position() (consumed, produced uint64) {
	if r.h == nil {
		return 0, 0
	}
	var c, p C.uint64_t
	C.codec_decoder_position(r.h, &c, &p)
	runtime.KeepAlive(r)
	return uint64(c), uint64(p)
}

// Marshal saves the decoder's whole state (mid-frame if need be) as bytes: versioned,
// checksummed, without the dictionary. Restore it with Unmarshal, giving it the input from
// Position's consumed offset (which, after Marshal, is everything this Reader has read
// from its source) and the same dictionary. The Reader goes on working.
func (r *Reader) Marshal() ([]byte, error) {
	if err := r.handOver(); err != nil {
		return nil, err
	}
	var need, written C.size_t
	st := C.codec_decoder_marshal(r.h, nil, 0, &need)
	runtime.KeepAlive(r)
	if st != C.CODEC_E_BUFFER && st != C.CODEC_OK {
		return nil, r.check("marshal", st)
	}
	state := make([]byte, int(need))
	st = C.codec_decoder_marshal(r.h, (*C.uint8_t)(unsafe.Pointer(&state[0])), need, &written)
	runtime.KeepAlive(r)
	runtime.KeepAlive(state)
	if err := r.check("marshal", st); err != nil {
		return nil, err
	}
	return state[:written], nil
}

// Clone returns an independent copy of the Reader that continues from the same point,
// reading its input from src. An io.Reader cannot be duplicated, so src must deliver the
// same stream from Position's consumed offset (which, after Clone, is everything this
// Reader has read from its own source). Both Readers then go on on their own.
func (r *Reader) Clone(src io.Reader) (*Reader, error) {
	if err := r.handOver(); err != nil {
		return nil, err
	}
	var h *C.codec_decoder
	st := C.codec_decoder_clone(r.h, &h)
	if err := r.check("clone", st); err != nil {
		return nil, err
	}
	c := newReader(h, src, len(r.in))
	c.pending = true
	return c, nil
}

// Unmarshal rebuilds a Reader from a state made by Marshal (in this or another process).
// dict must be the dictionary the original used (nil if none); another one gives an error
// with StatusDict, a damaged or foreign state one with StatusState.
//
// r supplies the compressed input from the state's consumed offset (see StatePosition). If
// r is an io.Seeker, Unmarshal seeks it there itself (io.SeekStart).
func Unmarshal(state []byte, r io.Reader, dict *Dict) (*Reader, error) {
	h, err := unmarshal(state, dict)
	if err != nil {
		return nil, err
	}
	rd := newReader(h, r, 128<<10)
	rd.pending = true // the state may hold input or output to deliver first
	if s, ok := r.(io.Seeker); ok {
		consumed, _ := rd.Position()
		if _, err := s.Seek(int64(consumed), io.SeekStart); err != nil {
			rd.free()
			return nil, fmt.Errorf("codec: seeking the input to the state's offset %d: %w", consumed, err)
		}
	}
	return rd, nil
}

// ResumeReader is Unmarshal, named for what it is used for.
func ResumeReader(state []byte, r io.Reader, dict *Dict) (*Reader, error) {
	return Unmarshal(state, r, dict)
}

// StatePosition reads the input and output offsets recorded in a state made by Marshal:
// where to resume reading the compressed input, and how much output had been delivered.
func StatePosition(state []byte, dict *Dict) (consumed, produced uint64, err error) {
	h, err := unmarshal(state, dict)
	if err != nil {
		return 0, 0, err
	}
	var c, p C.uint64_t
	C.codec_decoder_position(h, &c, &p)
	C.codec_decoder_free(h)
	return uint64(c), uint64(p), nil
}

func unmarshal(state []byte, dict *Dict) (*C.codec_decoder, error) {
	var dh *C.codec_dict
	if dict != nil {
		var err error
		if dh, err = dict.handle(); err != nil {
			return nil, err
		}
	}
	var src *C.uint8_t
	if len(state) > 0 {
		src = (*C.uint8_t)(unsafe.Pointer(&state[0]))
	}
	var h *C.codec_decoder
	err := handleless("codec_decoder_unmarshal", func() C.codec_status {
		return C.codec_decoder_unmarshal(src, C.size_t(len(state)), dh, &h)
	})
	runtime.KeepAlive(state)
	runtime.KeepAlive(dict)
	return h, err
}

// Close releases the decoder. It does not close the source. Closing twice is harmless.
func (r *Reader) Close() error {
	r.free()
	return nil
}

func (r *Reader) free() {
	if r.h != nil {
		C.codec_decoder_free(r.h)
		r.h = nil
	}
	runtime.SetFinalizer(r, nil)
}
