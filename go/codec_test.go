package codec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// needFormat is the one place that skips a format: only when creating an encoder fails with
// CODEC_E_UNSUPPORTED (the format is not in this build), and not when CODEC_STRICT_FORMATS=1.
func needFormat(t *testing.T, f Format) {
	t.Helper()
	w, err := NewWriter(io.Discard, f)
	if err == nil {
		w.Close()
		return
	}
	if errors.Is(err, ErrUnsupported) && os.Getenv("CODEC_STRICT_FORMATS") != "1" {
		t.Skipf("format %v is not in this build of libcodec: %v", f, err)
	}
	t.Fatalf("NewWriter(%v): %v", f, err)
}

// decodeFormat is what a decoder is created with: Auto where detection works.
func decodeFormat(f Format) Format {
	if f == LZ4Blocks || f == LZMA2 {
		return f
	}
	return Auto
}

func canFlush(f Format) bool { return f != LZMA }

func canDict(f Format) bool { return f != XZ && f != LZMA }

// testData is log-like text: compressible, not trivially.
func testData(n int, seed int64) []byte {
	rnd := rand.New(rand.NewSource(seed))
	words := []string{"alpha", "beta", "gamma", "delta", "stream", "frame", "flush", "resume"}
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%07d", i)
		for j := rnd.Intn(9) + 2; j > 0; j-- {
			b.WriteByte(' ')
			b.WriteString(words[rnd.Intn(len(words))])
		}
		fmt.Fprintf(&b, " status=%d bytes=%d\n", []int{200, 200, 404, 500}[rnd.Intn(4)], rnd.Intn(100000))
	}
	return b.Bytes()[:n]
}

func compressWith(t *testing.T, f Format, data []byte, chunk int, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := chunk
		if n > len(data) {
			n = len(data)
		}
		if m, err := w.Write(data[:n]); err != nil || m != n {
			t.Fatalf("Write: %d, %v", m, err)
		}
		data = data[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	data := testData(700_000, 1)
	for _, f := range Formats {
		f := f
		t.Run(f.String(), func(t *testing.T) {
			needFormat(t, f)
			comp := compressWith(t, f, data, 10_007, WithBufferSize(1000))
			if len(comp) >= len(data)/2 {
				t.Fatalf("compressed %d bytes to only %d", len(data), len(comp))
			}
			// one byte of input at a time, small reads
			r, err := NewReader(iotest.OneByteReader(bytes.NewReader(comp)), decodeFormat(f))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			buf := make([]byte, 777)
			for {
				n, err := r.Read(buf)
				out.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			r.Close()
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatal("streamed round trip differs")
			}
			// one-shot, with a level
			c2, err := Compress(f, data, WithLevel(1))
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decompress(decodeFormat(f), c2)
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("one-shot round trip: %v", err)
			}
			// empty input
			c3, err := Compress(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Decompress(decodeFormat(f), c3); err != nil || len(back) != 0 {
				t.Fatalf("empty round trip: %d bytes, %v", len(back), err)
			}
		})
	}
}

func TestConcatenatedFramesAndReset(t *testing.T) {
	needFormat(t, Zstd)
	a, b := testData(50_000, 2), testData(30_000, 3)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Zstd)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abandoned frame"))
	var junk bytes.Buffer
	if err := w.Reset(&junk); err != nil { // abandon that frame; write the next elsewhere
		t.Fatal(err)
	}
	w.Reset(&buf)
	w.Write(a)
	w.Close()
	w2, _ := NewWriter(&buf, Zstd)
	w2.Write(b)
	w2.Close()
	back, err := Decompress(Auto, buf.Bytes())
	if err != nil || !bytes.Equal(back, append(append([]byte{}, a...), b...)) {
		t.Fatalf("concatenated frames: %v", err)
	}
}

// Every Flush makes everything written so far decodable, while the frame stays open.
func TestFlushPrefixes(t *testing.T) {
	for _, f := range Formats {
		f := f
		t.Run(f.String(), func(t *testing.T) {
			needFormat(t, f)
			var buf bytes.Buffer
			w, err := NewWriter(&buf, f)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if !canFlush(f) {
				w.Write([]byte("x"))
				if err := w.Flush(); !errors.Is(err, ErrUnsupported) {
					t.Fatalf("LZMA Flush: want ErrUnsupported, got %v", err)
				}
				if _, err := w.Write([]byte("still usable")); err != nil {
					t.Fatal(err)
				}
				return
			}
			var plain []byte
			for i := 0; i < 30; i++ {
				msg := []byte(fmt.Sprintf("message %d: %s\n", i, strings.Repeat("payload ", i%7)))
				plain = append(plain, msg...)
				if _, err := w.Write(msg); err != nil {
					t.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				// a decoder given only the bytes so far returns all the messages so far
				prefix := append([]byte{}, buf.Bytes()...)
				r, _ := NewReader(bytes.NewReader(prefix), decodeFormat(f))
				got, err := io.ReadAll(r)
				r.Close()
				if !bytes.Equal(got, plain) {
					t.Fatalf("after flush %d: decoded %d of %d bytes", i, len(got), len(plain))
				}
				if err != nil && !errors.Is(err, ErrTruncated) {
					t.Fatalf("prefix: %v", err)
				}
			}
		})
	}
}

// A reader decodes each message as soon as its flush arrives through a pipe.
func TestFlushLive(t *testing.T) {
	for _, f := range Formats {
		f := f
		if !canFlush(f) {
			continue
		}
		t.Run(f.String(), func(t *testing.T) {
			needFormat(t, f)
			pr, pw := io.Pipe()
			w, err := NewWriter(pw, f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(pr, decodeFormat(f))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ack := make(chan bool)
			go func() {
				defer pw.Close()
				defer w.Close()
				for i := 0; i < 20; i++ {
					fmt.Fprintf(w, "record %02d %s\n", i, strings.Repeat("=", i))
					if err := w.Flush(); err != nil || !<-ack {
						return
					}
				}
			}()
			for i := 0; i < 20; i++ {
				want := fmt.Sprintf("record %02d %s\n", i, strings.Repeat("=", i))
				got := make([]byte, len(want))
				done := make(chan error, 1)
				go func() { _, err := io.ReadFull(r, got); done <- err }()
				select {
				case err := <-done:
					if err != nil || string(got) != want {
						t.Fatalf("record %d: %q, %v", i, got, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("record %d was not decodable after its flush", i)
				}
				ack <- true
			}
		})
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestMarshalCloneResume(t *testing.T) {
	data := testData(1_500_000, 4)
	for _, f := range Formats {
		f := f
		t.Run(f.String(), func(t *testing.T) {
			needFormat(t, f)
			comp := compressWith(t, f, data, 64<<10)
			rnd := rand.New(rand.NewSource(int64(f)))
			for trial := 0; trial < 4; trial++ {
				// read part of the output, through small reads of a source
				var src *countingReader
				if trial%2 == 1 {
					src = &countingReader{r: bytes.NewReader(comp)}
				} else {
					src = &countingReader{r: iotest.HalfReader(bytes.NewReader(comp))}
				}
				bufSize := 4096
				if trial%2 == 1 {
					bufSize = len(comp) + 1 // everything read ahead: the state carries all of it
				}
				r, err := NewReader(src, decodeFormat(f), WithBufferSize(bufSize))
				if err != nil {
					t.Fatal(err)
				}
				first := make([]byte, rnd.Intn(len(data)-1)+1)
				if _, err := io.ReadFull(r, first); err != nil {
					t.Fatal(err)
				}
				state, err := r.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				consumed, produced := r.Position()
				if consumed != uint64(src.n) || produced != uint64(len(first)) {
					t.Fatalf("position after Marshal: consumed %d (read %d), produced %d (want %d)", consumed, src.n,
						produced, len(first))
				}
				clone, err := r.Clone(bytes.NewReader(comp[consumed:]))
				if err != nil {
					t.Fatal(err)
				}
				// the original goes on...
				rest, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(append(first, rest...), data) {
					t.Fatalf("original after Marshal/Clone: %v", err)
				}
				r.Close()
				// ...and so do the clone and a Reader rebuilt from the state (seeking by itself)
				rest2, err := io.ReadAll(clone)
				if err != nil || !bytes.Equal(rest2, rest) {
					t.Fatalf("clone: %v", err)
				}
				clone.Close()
				c, p, err := StatePosition(state, nil)
				if err != nil || c != consumed || p != produced {
					t.Fatalf("StatePosition: %d %d %v", c, p, err)
				}
				resumed, err := ResumeReader(state, bytes.NewReader(comp), nil)
				if err != nil {
					t.Fatal(err)
				}
				rest3, err := io.ReadAll(resumed)
				if err != nil || !bytes.Equal(rest3, rest) {
					t.Fatalf("resumed: %v", err)
				}
				resumed.Close()
			}
		})
	}
}

// A download cut short: the Reader says truncated, its decoder is intact, the state resumes.
func TestTruncatedThenResume(t *testing.T) {
	needFormat(t, Zstd)
	data := testData(400_000, 5)
	comp := compressWith(t, Zstd, data, 1<<20)
	r, _ := NewReader(bytes.NewReader(comp[:len(comp)/2]), Zstd)
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "ended inside a frame") {
		t.Fatalf("want ErrTruncated, got %v", err)
	}
	state, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	resumed, err := Unmarshal(state, bytes.NewReader(comp), nil)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resumed)
	if err != nil || !bytes.Equal(append(got, rest...), data) {
		t.Fatalf("resumed download: %v", err)
	}
}

const helperEnv = "CODEC_GO_TEST_HELPER"

// TestMain lets the test binary act as the "other process" of TestResumeInAnotherProcess.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "resume" {
		if err := resumeHelper(os.Getenv("STATE"), os.Getenv("INPUT"), os.Getenv("OUTPUT")); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// resumeHelper continues a decompression from a state file: truncate the output to what the
// state produced, seek the input to what it consumed, decode the rest.
func resumeHelper(statePath, inputPath, outputPath string) error {
	state, err := os.ReadFile(statePath)
	if err != nil {
		return err
	}
	_, produced, err := StatePosition(state, nil)
	if err != nil {
		return err
	}
	in, err := os.Open(inputPath)
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := ResumeReader(state, in, nil) // seeks the file itself
	if err != nil {
		return err
	}
	defer r.Close()
	out, err := os.OpenFile(outputPath, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := out.Truncate(int64(produced)); err != nil {
		return err
	}
	if _, err := out.Seek(int64(produced), io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		return err
	}
	return out.Close()
}

func TestResumeInAnotherProcess(t *testing.T) {
	data := testData(2_000_000, 6)
	for _, f := range Formats {
		f := f
		t.Run(f.String(), func(t *testing.T) {
			needFormat(t, f)
			dir := t.TempDir()
			comp := compressWith(t, f, data, 1<<20)
			input, output, statePath := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "state")
			os.WriteFile(input, comp, 0o644)
			// this process: decode a part, save the state, and write a little more output than
			// the state covers (as a crash after the last save would)
			in, _ := os.Open(input)
			r, err := NewReader(in, decodeFormat(f), WithBufferSize(10_000))
			if err != nil {
				t.Fatal(err)
			}
			part := make([]byte, len(data)/3)
			if _, err := io.ReadFull(r, part); err != nil {
				t.Fatal(err)
			}
			state, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			extra := make([]byte, 5000)
			io.ReadFull(r, extra)
			r.Close()
			in.Close()
			os.WriteFile(statePath, state, 0o644)
			os.WriteFile(output, append(part, extra...), 0o644)
			// another process finishes
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=resume", "STATE="+statePath, "INPUT="+input, "OUTPUT="+output)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("helper process: %v: %s", err, out)
			}
			got, _ := os.ReadFile(output)
			if !bytes.Equal(got, data) {
				t.Fatalf("output after resuming in another process differs (%d bytes, want %d)", len(got), len(data))
			}
		})
	}
}

func trainingSamples() [][]byte {
	rnd := rand.New(rand.NewSource(7))
	var s [][]byte
	for i := 0; i < 2000; i++ {
		s = append(s, []byte(fmt.Sprintf(`{"id":%d,"user":"user%04d","action":"%s","path":"/api/v2/items/%d"}`, i,
			rnd.Intn(500), []string{"view", "edit", "share"}[rnd.Intn(3)], rnd.Intn(10000))))
	}
	return s
}

func TestDict(t *testing.T) {
	samples := trainingSamples()
	d, err := TrainDictWith(samples[:1900], 4096, TrainOptions{K: 200, D: 8, DictID: 12345})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.ID() != 12345 || len(d.Content()) == 0 || len(d.Content()) > 4096 {
		t.Fatalf("dictionary id %d, %d bytes", d.ID(), len(d.Content()))
	}
	d2, err := LoadDict(d.Content())
	if err != nil || d2.ID() != d.ID() || !bytes.Equal(d2.Content(), d.Content()) {
		t.Fatalf("LoadDict(Content()): %v", err)
	}
	d2.Close()
	if d2.ID() != 0 || d2.Content() != nil {
		t.Fatal("a closed Dict must look empty")
	}
	if _, err := NewWriter(io.Discard, Zstd, WithDict(d2)); err != ErrClosed {
		t.Fatalf("closed dictionary: %v", err)
	}
	msg := bytes.Join(samples[1950:1953], []byte("\n"))
	for _, f := range Formats {
		f := f
		if !canDict(f) {
			continue
		}
		t.Run(f.String(), func(t *testing.T) {
			needFormat(t, f)
			with, err := Compress(f, msg, WithDict(d))
			if err != nil {
				t.Fatal(err)
			}
			without, _ := Compress(f, msg)
			if len(with) >= len(without) {
				t.Fatalf("the dictionary should help: %d vs %d", len(with), len(without))
			}
			back, err := Decompress(decodeFormat(f), with, WithDict(d))
			if err != nil || !bytes.Equal(back, msg) {
				t.Fatalf("dictionary round trip: %v", err)
			}
			if back, err := Decompress(decodeFormat(f), with); err == nil && bytes.Equal(back, msg) {
				t.Fatal("decoding without the dictionary must not succeed")
			}
		})
	}
	// zstd specifics: the missing dictionary is named; a state needs the same dictionary
	needFormat(t, Zstd)
	with, _ := Compress(Zstd, bytes.Repeat(msg, 50), WithDict(d))
	if _, err := Decompress(Auto, with); !errors.Is(err, ErrDict) {
		t.Fatalf("missing dictionary: %v", err)
	}
	r, _ := NewReader(bytes.NewReader(with[:len(with)/2]), Zstd, WithDict(d))
	io.ReadAll(r)
	state, err := r.Marshal()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := LoadDict(bytes.Repeat([]byte("other dictionary "), 100))
	defer other.Close()
	if _, err := Unmarshal(state, bytes.NewReader(with), other); !errors.Is(err, ErrDict) {
		t.Fatalf("state with another dictionary: %v", err)
	}
	if _, err := Unmarshal(state, bytes.NewReader(with), nil); !errors.Is(err, ErrDict) {
		t.Fatalf("state without its dictionary: %v", err)
	}
	rr, err := Unmarshal(state, bytes.NewReader(with), d)
	if err != nil {
		t.Fatal(err)
	}
	rr.Close()
}

func TestErrors(t *testing.T) {
	needFormat(t, Zstd)
	data := testData(200_000, 8)
	comp, _ := Compress(Zstd, data, WithParam(ParamChecksum, 1))
	bad := append([]byte{}, comp...)
	bad[4] = 0xff // frame header descriptor: reserved bit
	_, err := Decompress(Auto, bad)
	var e *Error
	if !errors.As(err, &e) || e.Status != StatusCorrupt || !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrChecksum) {
		t.Fatalf("corrupt header: %v", err)
	}
	if !regexp.MustCompile(`^codec: decode: CODEC_E_CORRUPT: .*at input byte \d+`).MatchString(err.Error()) {
		t.Fatalf("message: %q", err.Error())
	}
	if _, err := Decompress(Auto, comp[:len(comp)-3]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := Decompress(Auto, []byte("plain text, not compressed")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown data: %v", err)
	}
	if _, err := NewWriter(io.Discard, Auto); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "codec_encoder_new") {
		t.Fatalf("encoder for Auto: %v", err)
	}
	if _, err := NewWriter(io.Discard, Zstd, WithParam(ParamZstdWindowLog, 99)); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "window_log") {
		t.Fatalf("out of range: %v", err)
	}
	if _, err := NewWriter(io.Discard, Zstd, WithParam(ParamXZDictSize, 1<<20)); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("parameter of another format: %v", err)
	}
	if _, err := NewWriter(io.Discard, Zstd, WithParamName("no_such_thing", 1)); err == nil {
		t.Fatal("unknown parameter name accepted")
	}
	if _, err := Compress(Zstd, data, WithParamName("window_log", 20), WithLevel(19)); err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal([]byte("not a state"), nil, nil); !errors.Is(err, ErrState) {
		t.Fatalf("garbage state: %v", err)
	}
	if _, err := LoadDict([]byte{0x37, 0xa4, 0x30, 0xec, 1, 2, 3}); err == nil {
		t.Fatal("broken zstd dictionary accepted")
	}
	if lo, hi, err := ParamBounds(Zstd, ParamLevel); err != nil || lo >= hi || hi != 22 {
		t.Fatalf("ParamBounds: %d %d %v", lo, hi, err)
	}
	if _, _, err := ParamBounds(Zstd, ParamXZPreset); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("ParamBounds of another format: %v", err)
	}
	// memory limit: a 4 MiB window (no pledged size, so zstd keeps it) against a 1 MiB limit
	big := compressWith(t, Zstd, data, 1<<20, WithParam(ParamZstdWindowLog, 22))
	if _, err := Decompress(Auto, big, WithParam(ParamZstdWindowLogMax, 20)); !errors.Is(err, ErrMemLimit) {
		t.Fatalf("window limit: %v", err)
	}
	if back, err := Decompress(Auto, big, WithParamName("window_log_max", 22)); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("window_log_max=22: %v", err)
	}
	// use after Close
	w, _ := NewWriter(io.Discard, Zstd)
	w.Close()
	if _, err := w.Write([]byte("x")); err != ErrClosed || w.Close() != nil || w.Flush() != ErrClosed {
		t.Fatalf("closed writer: %v", err)
	}
	r, _ := NewReader(bytes.NewReader(comp), Auto)
	r.Close()
	if _, err := r.Read(make([]byte, 10)); err != ErrClosed {
		t.Fatalf("closed reader: %v", err)
	}
	if _, err := r.Marshal(); err != ErrClosed {
		t.Fatalf("closed reader Marshal: %v", err)
	}
	// a panic inside the library becomes StatusPanic and poisons the handle
	if _, err := NewWriter(io.Discard, Zstd, WithParam(ParamDebugPanic, 1)); !errors.Is(err, ErrPanic) {
		t.Fatalf("debug panic: %v", err)
	}
	// formats and names
	for _, f := range append([]Format{Auto}, Formats...) {
		if g, err := ParseFormat(strings.ToUpper(f.String())); err != nil || g != f {
			t.Fatalf("ParseFormat(%v): %v %v", f, g, err)
		}
	}
	if _, err := ParseFormat("gzip"); err == nil {
		t.Fatal("ParseFormat(gzip)")
	}
	if StatusCorrupt.String() != "CODEC_E_CORRUPT" || Status(-999).String() != "CODEC_UNKNOWN_STATUS" {
		t.Fatal("Status.String")
	}
}

func TestParamNames(t *testing.T) {
	cases := []struct {
		f    Format
		name string
		want Param
	}{
		{Zstd, "window_log", ParamZstdWindowLog}, {Zstd, "level", ParamLevel}, {XZ, "dict_size", ParamXZDictSize},
		{LZMA2, "dict_size", ParamXZDictSize}, {LZ4, "block_size", ParamLZ4BlockSize},
		{XZ, "block_size", ParamXZBlockSize}, {LZ4Blocks, "page_size", ParamLZ4BlocksPageSize},
		{Auto, "window_log_max", ParamZstdWindowLogMax}, {Auto, "memlimit", ParamMemLimit},
	}
	for _, c := range cases {
		if p, err := ParamByName(c.f, c.name); err != nil || p != c.want {
			t.Errorf("ParamByName(%v, %q) = %v, %v; want %v", c.f, c.name, p, err, c.want)
		}
	}
	if _, err := ParamByName(Auto, "block_size"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous name: %v", err)
	}
	if _, err := ParamByName(Zstd, "dict_size"); err == nil {
		t.Error("dict_size is not a zstd parameter")
	}
}

// The Go table covers every CODEC_PARAM_* of the header, with the same value.
func TestParamTableMatchesHeader(t *testing.T) {
	hdr, err := os.ReadFile(filepath.Join("..", "include", "codec.h"))
	if err != nil {
		t.Skipf("header not found: %v", err)
	}
	re := regexp.MustCompile(`#define CODEC_PARAM_([A-Z0-9_]+) (\d+)`)
	n := 0
	for _, m := range re.FindAllStringSubmatch(string(hdr), -1) {
		v, _ := strconv.Atoi(m[2])
		n++
		found := false
		for _, e := range paramTable {
			if int(e.param) == v {
				found = strings.HasSuffix(strings.ToLower(m[1]), e.name)
			}
		}
		if !found {
			t.Errorf("CODEC_PARAM_%s = %d is missing from paramTable (or misnamed)", m[1], v)
		}
	}
	if n != len(paramTable) {
		t.Errorf("header has %d parameters, paramTable %d", n, len(paramTable))
	}
}

func TestFrameInfoAndDetect(t *testing.T) {
	needFormat(t, Zstd)
	data := testData(100_000, 9)
	comp, _ := Compress(Zstd, data, WithParam(ParamChecksum, 1))
	if f, err := DetectFormat(comp); err != nil || f != Zstd {
		t.Fatalf("DetectFormat: %v %v", f, err)
	}
	h, err := FrameInfo(Auto, comp)
	if err != nil || h.Format != Zstd || h.ContentSize != uint64(len(data)) || h.Checksum != CheckXXH64 {
		t.Fatalf("FrameInfo: %+v %v", h, err)
	}
	if _, err := DetectFormat([]byte("hello, world: not compressed")); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("DetectFormat of text: %v", err)
	}
	if _, err := FrameInfo(Zstd, comp[:3]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("FrameInfo of 3 bytes: %v", err)
	}
	if !strings.HasPrefix(Version(), "libcodec ") || VersionNumber() != HeaderVersionNumber {
		t.Fatalf("version %q %d", Version(), VersionNumber())
	}
}

// Separate handles in separate goroutines, one shared dictionary, and per-thread error
// messages of handle-less calls that do not leak between goroutines.
func TestConcurrent(t *testing.T) {
	needFormat(t, Zstd)
	d, err := TrainDict(trainingSamples(), 8192)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			data := testData(100_000+g*1000, int64(g))
			for i := 0; i < 5; i++ {
				var buf bytes.Buffer
				w, err := NewWriter(&buf, Zstd, WithDict(d), WithLevel(g%5+1))
				if err != nil {
					errs <- err
					return
				}
				bw := bufio.NewWriterSize(w, 3000)
				bw.Write(data)
				bw.Flush()
				w.Close()
				back, err := Decompress(Auto, buf.Bytes(), WithDict(d))
				if err != nil || !bytes.Equal(back, data) {
					errs <- fmt.Errorf("goroutine %d: round trip: %v", g, err)
					return
				}
				// a failing handle-less call: its message must be this goroutine's
				bad := Format(100 + g)
				_, err = NewWriter(io.Discard, bad)
				if err == nil || !strings.Contains(err.Error(), strconv.Itoa(100+g)) {
					errs <- fmt.Errorf("goroutine %d: message of another call: %v", g, err)
					return
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Forgotten handles are freed by finalizers without crashing.
func TestFinalizers(t *testing.T) {
	needFormat(t, Zstd)
	comp, _ := Compress(Zstd, testData(10_000, 10))
	for i := 0; i < 200; i++ {
		w, _ := NewWriter(io.Discard, Zstd)
		w.Write([]byte("forgotten"))
		r, _ := NewReader(bytes.NewReader(comp), Auto)
		r.Read(make([]byte, 100))
		d, _ := LoadDict([]byte("raw content dictionary"))
		_ = d
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
