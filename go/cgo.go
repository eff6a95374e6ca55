//go:build !codec_nopkgconfig

package codec

// By default the package finds libcodec through pkg-config (codec.pc, installed by
// `make install`). To build against the repository's own build instead, either point
// pkg-config at it (PKG_CONFIG_PATH=/path/to/libcodec/build, whose codec.pc refers to
// build/lib and include/), or build with `-tags codec_nopkgconfig` and set CGO_CFLAGS and
// CGO_LDFLAGS yourself. See docs/go.md.

// #cgo pkg-config: codec
import "C"
