package codec

// Option configures a Writer, a Reader, Compress or Decompress.
type Option func(*config)

type setting struct {
	param Param
	name  string // when given by name: resolved against the format at construction
	value int64
}

type config struct {
	settings []setting
	level    *int
	dict     *Dict
	pledged  *uint64
	bufSize  int
}

func newConfig(opts []Option) *config {
	c := &config{bufSize: 128 << 10}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithLevel sets the compression level (CODEC_PARAM_LEVEL: zstd -131072..22, LZ4 fast modes
// below 0 and high compression 3..12, xz presets 0..9). Readers ignore it.
func WithLevel(level int) Option { return func(c *config) { c.level = &level } }

// WithParam sets a parameter, checked by the library when the Writer or Reader is created.
func WithParam(p Param, value int64) Option {
	return func(c *config) { c.settings = append(c.settings, setting{param: p, value: value}) }
}

// WithParamName sets a parameter by name ("window_log", "dict_size", ...; see ParamByName).
func WithParamName(name string, value int64) Option {
	return func(c *config) { c.settings = append(c.settings, setting{name: name, value: value}) }
}

// WithDict uses a dictionary (zstd, LZ4 frame, LZ4 blocks, raw LZMA2). The Writer or Reader
// takes its own reference: the Dict may be closed as soon as it is created.
func WithDict(d *Dict) Option { return func(c *config) { c.dict = d } }

// WithPledgedSize declares the exact size of what the Writer will be given before Close, so
// that zstd, LZ4 frame and xz record it in the header. Writers only.
func WithPledgedSize(n uint64) Option { return func(c *config) { c.pledged = &n } }

// WithBufferSize sets the size of the internal input (Reader) or output (Writer) buffer
// (default 128 KiB).
func WithBufferSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.bufSize = n
		}
	}
}

// resolve gives the parameter a setting means for format.
func (s setting) resolve(format Format) (Param, error) {
	if s.name == "" {
		return s.param, nil
	}
	return ParamByName(format, s.name)
}
