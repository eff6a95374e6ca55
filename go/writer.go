package codec

/*
#include <codec.h>
*/
import "C"

import (
	"io"
	"runtime"
	"unsafe"
)

// Writer compresses what is written to it into an underlying io.Writer. Flush makes
// everything written so far decodable without ending the frame; Close ends the frame and
// releases the encoder (it does not close the underlying writer).
//
// A Writer is used by one goroutine at a time.
type Writer struct {
	h      *C.codec_encoder
	dst    io.Writer
	out    []byte
	format Format
	err    error // sticky: after an error every call returns it
}

// NewWriter returns a Writer compressing into w in format (not Auto).
func NewWriter(w io.Writer, format Format, opts ...Option) (*Writer, error) {
	cfg := newConfig(opts)
	var h *C.codec_encoder
	if err := handleless("codec_encoder_new", func() C.codec_status {
		return C.codec_encoder_new(C.codec_format(format), &h)
	}); err != nil {
		return nil, err
	}
	wr := &Writer{h: h, dst: w, out: make([]byte, cfg.bufSize), format: format}
	runtime.SetFinalizer(wr, (*Writer).free)
	if err := wr.configure(cfg); err != nil {
		wr.free()
		return nil, err
	}
	return wr, nil
}

func (w *Writer) configure(cfg *config) error {
	if cfg.level != nil {
		if err := w.check("set level", C.codec_encoder_set_param(w.h, C.CODEC_PARAM_LEVEL, C.int64_t(*cfg.level))); err != nil {
			return err
		}
	}
	for _, s := range cfg.settings {
		p, err := s.resolve(w.format)
		if err != nil {
			return err
		}
		if err := w.check("set "+p.String(), C.codec_encoder_set_param(w.h, C.codec_param(p), C.int64_t(s.value))); err != nil {
			return err
		}
	}
	if cfg.dict != nil {
		dh, err := cfg.dict.handle()
		if err != nil {
			return err
		}
		err = w.check("set dictionary", C.codec_encoder_set_dict(w.h, dh))
		runtime.KeepAlive(cfg.dict)
		if err != nil {
			return err
		}
	}
	if cfg.pledged != nil {
		if err := w.check("set pledged size", C.codec_encoder_set_pledged_size(w.h, C.uint64_t(*cfg.pledged))); err != nil {
			return err
		}
	}
	return nil
}

// check turns a status of a call on w.h into an error carrying the encoder's message.
func (w *Writer) check(op string, st C.codec_status) error {
	defer runtime.KeepAlive(w)
	if st >= 0 {
		return nil
	}
	return &Error{Status: Status(st), Op: op, Message: C.GoString(C.codec_encoder_last_error(w.h))}
}

// encode feeds p with action, writing all output to the destination.
func (w *Writer) encode(p []byte, action C.codec_action) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.h == nil {
		return 0, ErrClosed
	}
	done := 0
	for {
		var src *C.uint8_t
		if done < len(p) {
			src = (*C.uint8_t)(unsafe.Pointer(&p[done]))
		}
		var read, written C.size_t
		st := C.codec_encoder_encode(w.h, src, C.size_t(len(p)-done), &read,
			(*C.uint8_t)(unsafe.Pointer(&w.out[0])), C.size_t(len(w.out)), &written, action)
		runtime.KeepAlive(w)
		runtime.KeepAlive(p)
		done += int(read)
		if written > 0 {
			if _, err := w.dst.Write(w.out[:written]); err != nil {
				w.err = err
				return done, err
			}
		}
		if st < 0 {
			err := w.check(actionName(action), st)
			if Status(st) != StatusUnsupported { // an unsupported flush leaves the encoder usable
				w.err = err
			}
			return done, err
		}
		if st == C.CODEC_OK && done == len(p) {
			return done, nil
		}
	}
}

func actionName(a C.codec_action) string {
	switch a {
	case C.CODEC_FLUSH:
		return "flush"
	case C.CODEC_FINISH:
		return "finish"
	}
	return "encode"
}

// Write compresses p. Output goes to the destination whenever the format produces some.
func (w *Writer) Write(p []byte) (int, error) { return w.encode(p, C.CODEC_CONTINUE) }

// Flush makes everything written so far decodable by any decoder of the format, without
// ending the frame (zstd block flush, LZ4 frame flush, LZ4 block emit, LZMA2 sync flush),
// and writes it to the destination. LZMA (and xz with BCJ or threads) cannot flush: that is
// an *Error with StatusUnsupported, after which the Writer is still usable.
func (w *Writer) Flush() error {
	_, err := w.encode(nil, C.CODEC_FLUSH)
	return err
}

// Close ends the frame, writes the rest to the destination and releases the encoder. It
// does not close the destination. Closing twice is harmless.
func (w *Writer) Close() error {
	if w.h == nil {
		return nil
	}
	var err error
	if w.err == nil {
		_, err = w.encode(nil, C.CODEC_FINISH)
	}
	w.free()
	return err
}

// Reset abandons the current frame, clears any error, and makes the Writer compress into
// dst with the same settings.
func (w *Writer) Reset(dst io.Writer) error {
	if w.h == nil {
		return ErrClosed
	}
	w.err = nil
	w.dst = dst
	return w.check("reset", C.codec_encoder_reset(w.h))
}

func (w *Writer) free() {
	if w.h != nil {
		C.codec_encoder_free(w.h)
		w.h = nil
	}
	runtime.SetFinalizer(w, nil)
}
