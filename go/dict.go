package codec

/*
#include <stdlib.h>
#include <codec.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Dict is an immutable dictionary, shareable by any number of Writers, Readers and
// goroutines. Writers and Readers take their own reference, so a Dict may be closed as soon
// as they are created.
type Dict struct {
	h *C.codec_dict
}

func newDict(h *C.codec_dict) *Dict {
	d := &Dict{h: h}
	runtime.SetFinalizer(d, (*Dict).free)
	return d
}

// LoadDict loads a dictionary: a zstd-format dictionary (it must be well formed) or any other
// bytes as raw content. The bytes are copied.
func LoadDict(content []byte) (*Dict, error) {
	var src *C.uint8_t
	if len(content) > 0 {
		src = (*C.uint8_t)(unsafe.Pointer(&content[0]))
	}
	var h *C.codec_dict
	err := handleless("codec_dict_load", func() C.codec_status {
		return C.codec_dict_load(src, C.size_t(len(content)), &h)
	})
	runtime.KeepAlive(content)
	if err != nil {
		return nil, err
	}
	return newDict(h), nil
}

// TrainAlgorithm selects zstd's dictionary trainer.
type TrainAlgorithm int32

const (
	// FastCover is the default trainer (what zstd --train uses).
	FastCover TrainAlgorithm = C.CODEC_TRAIN_FASTCOVER
	// Cover is slower, sometimes slightly better.
	Cover TrainAlgorithm = C.CODEC_TRAIN_COVER
)

// TrainOptions tunes TrainDictWith; zero fields let zstd choose (codec_train_params).
type TrainOptions struct {
	Algorithm TrainAlgorithm
	K, D      uint32 // segment and dmer size; 0 = search
	Steps     uint32 // k values tried when searching; 0 = zstd's default
	Level     int32  // compression level the entropy tables are tuned for; 0 = 3
	Threads   uint32 // threads for the search
	DictID    uint32 // 0 = random
}

// TrainDict trains a zstd dictionary of at most capacity bytes from samples, with the
// settings of zstd --train. Use representative samples: typically thousands, totalling
// about 100 times the capacity.
func TrainDict(samples [][]byte, capacity int) (*Dict, error) {
	return train(samples, capacity, nil)
}

// TrainDictWith is TrainDict with a choice of trainer and parameters.
func TrainDictWith(samples [][]byte, capacity int, opts TrainOptions) (*Dict, error) {
	return train(samples, capacity, &opts)
}

func train(samples [][]byte, capacity int, opts *TrainOptions) (*Dict, error) {
	total := 0
	for _, s := range samples {
		total += len(s)
	}
	flat := make([]byte, 0, total+1) // the C API takes the samples one after another
	sizes := make([]C.size_t, len(samples)+1)
	for i, s := range samples {
		flat = append(flat, s...)
		sizes[i] = C.size_t(len(s))
	}
	flat = append(flat, 0) // never empty, so &flat[0] exists
	var params *C.codec_train_params
	if opts != nil {
		params = (*C.codec_train_params)(C.malloc(C.sizeof_codec_train_params))
		defer C.free(unsafe.Pointer(params))
		*params = C.codec_train_params{
			algorithm: C.codec_train_algorithm(opts.Algorithm), k: C.uint32_t(opts.K), d: C.uint32_t(opts.D),
			steps: C.uint32_t(opts.Steps), level: C.int32_t(opts.Level), threads: C.uint32_t(opts.Threads),
			dict_id: C.uint32_t(opts.DictID),
		}
	}
	var h *C.codec_dict
	err := handleless("codec_dict_train", func() C.codec_status {
		return C.codec_dict_train_ex((*C.uint8_t)(unsafe.Pointer(&flat[0])), &sizes[0], C.size_t(len(samples)),
			C.size_t(capacity), params, &h)
	})
	runtime.KeepAlive(flat)
	runtime.KeepAlive(sizes)
	if err != nil {
		return nil, err
	}
	return newDict(h), nil
}

func (d *Dict) handle() (*C.codec_dict, error) {
	if d.h == nil {
		return nil, ErrClosed
	}
	return d.h, nil
}

// ID is the zstd dictionary ID (0 for raw content or a closed Dict).
func (d *Dict) ID() uint32 {
	if d.h == nil {
		return 0
	}
	id := C.codec_dict_id(d.h)
	runtime.KeepAlive(d)
	return uint32(id)
}

// Content returns a copy of the dictionary's bytes exactly as loaded or trained (nil for a
// closed Dict); write it to a file to use it with zstd -D or codecat -D.
func (d *Dict) Content() []byte {
	if d.h == nil {
		return nil
	}
	var n C.size_t
	p := C.codec_dict_content(d.h, &n)
	out := C.GoBytes(unsafe.Pointer(p), C.int(n))
	runtime.KeepAlive(d)
	return out
}

// Close releases this reference. Writers and Readers using the dictionary keep theirs.
func (d *Dict) Close() error {
	d.free()
	return nil
}

func (d *Dict) free() {
	if d.h != nil {
		C.codec_dict_free(d.h)
		d.h = nil
	}
	runtime.SetFinalizer(d, nil)
}
