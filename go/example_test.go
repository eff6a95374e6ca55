package codec_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"

	"libcodec.example/codec"
)

// A writer that flushes after every record: the reader decodes each record while the frame
// is still open.
func ExampleWriter_Flush() {
	var stream bytes.Buffer
	w, err := codec.NewWriter(&stream, codec.Zstd, codec.WithLevel(19))
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(w, "record %d\n", i)
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		// everything sent so far is decodable now (the frame is not finished, so the
		// reader ends with ErrTruncated after the data)
		r, _ := codec.NewReader(bytes.NewReader(stream.Bytes()), codec.Auto)
		got, err := io.ReadAll(r)
		r.Close()
		fmt.Printf("%q %v\n", got, errors.Is(err, codec.ErrTruncated))
	}
	// Output:
	// "record 1\n" true
	// "record 1\nrecord 2\n" true
	// "record 1\nrecord 2\nrecord 3\n" true
}

// Save a decoder mid-stream and continue later, e.g. in another process.
func ExampleReader_Marshal() {
	data := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 10000)
	comp, _ := codec.Compress(codec.Zstd, data)

	// decode the first 1000 bytes, then save the state
	r, _ := codec.NewReader(bytes.NewReader(comp), codec.Auto)
	first := make([]byte, 1000)
	io.ReadFull(r, first)
	state, err := r.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	r.Close()

	// later: rebuild the decoder; it seeks the input to where the state left off
	resumed, err := codec.ResumeReader(state, bytes.NewReader(comp), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer resumed.Close()
	rest, _ := io.ReadAll(resumed)
	fmt.Println(bytes.Equal(append(first, rest...), data))
	// Output: true
}

// Train a dictionary for small records and compress one with it.
func ExampleTrainDict() {
	var samples [][]byte
	for i := 0; i < 2000; i++ {
		samples = append(samples, []byte(fmt.Sprintf(`{"id":%d,"kind":"order","state":"shipped","qty":%d}`, i, i%7)))
	}
	dict, err := codec.TrainDictWith(samples, 2048, codec.TrainOptions{K: 100, D: 8})
	if err != nil {
		log.Fatal(err)
	}
	defer dict.Close()
	msg := []byte(`{"id":123456,"kind":"order","state":"shipped","qty":3}`)
	small, _ := codec.Compress(codec.Zstd, msg, codec.WithDict(dict))
	plain, _ := codec.Compress(codec.Zstd, msg)
	back, _ := codec.Decompress(codec.Auto, small, codec.WithDict(dict))
	fmt.Println(len(small) < len(plain), bytes.Equal(back, msg))
	// Output: true true
}
