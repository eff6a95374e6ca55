package codec

/*
#include <codec.h>
*/
import "C"

import (
	"fmt"
	"strings"
)

// Param is an encoder or decoder parameter (the C CODEC_PARAM_* values). Generic ones come
// first; the others carry their format family in the name. codec.h documents each.
type Param int32

// Every parameter of codec.h.
const (
	ParamLevel                          Param = C.CODEC_PARAM_LEVEL
	ParamChecksum                       Param = C.CODEC_PARAM_CHECKSUM
	ParamThreads                        Param = C.CODEC_PARAM_THREADS
	ParamMemLimit                       Param = C.CODEC_PARAM_MEMLIMIT
	ParamDebugPanic                     Param = C.CODEC_PARAM_DEBUG_PANIC
	ParamZstdWindowLog                  Param = C.CODEC_PARAM_ZSTD_WINDOW_LOG
	ParamZstdHashLog                    Param = C.CODEC_PARAM_ZSTD_HASH_LOG
	ParamZstdChainLog                   Param = C.CODEC_PARAM_ZSTD_CHAIN_LOG
	ParamZstdSearchLog                  Param = C.CODEC_PARAM_ZSTD_SEARCH_LOG
	ParamZstdMinMatch                   Param = C.CODEC_PARAM_ZSTD_MIN_MATCH
	ParamZstdTargetLength               Param = C.CODEC_PARAM_ZSTD_TARGET_LENGTH
	ParamZstdStrategy                   Param = C.CODEC_PARAM_ZSTD_STRATEGY
	ParamZstdEnableLongDistanceMatching Param = C.CODEC_PARAM_ZSTD_ENABLE_LONG_DISTANCE_MATCHING
	ParamZstdLDMHashLog                 Param = C.CODEC_PARAM_ZSTD_LDM_HASH_LOG
	ParamZstdLDMMinMatch                Param = C.CODEC_PARAM_ZSTD_LDM_MIN_MATCH
	ParamZstdLDMBucketSizeLog           Param = C.CODEC_PARAM_ZSTD_LDM_BUCKET_SIZE_LOG
	ParamZstdLDMHashRateLog             Param = C.CODEC_PARAM_ZSTD_LDM_HASH_RATE_LOG
	ParamZstdContentSizeFlag            Param = C.CODEC_PARAM_ZSTD_CONTENT_SIZE_FLAG
	ParamZstdChecksumFlag               Param = C.CODEC_PARAM_ZSTD_CHECKSUM_FLAG
	ParamZstdDictIDFlag                 Param = C.CODEC_PARAM_ZSTD_DICT_ID_FLAG
	ParamZstdNbWorkers                  Param = C.CODEC_PARAM_ZSTD_NB_WORKERS
	ParamZstdJobSize                    Param = C.CODEC_PARAM_ZSTD_JOB_SIZE
	ParamZstdOverlapLog                 Param = C.CODEC_PARAM_ZSTD_OVERLAP_LOG
	ParamZstdWindowLogMax               Param = C.CODEC_PARAM_ZSTD_WINDOW_LOG_MAX
	ParamLZ4BlockSize                   Param = C.CODEC_PARAM_LZ4_BLOCK_SIZE
	ParamLZ4LinkedBlocks                Param = C.CODEC_PARAM_LZ4_LINKED_BLOCKS
	ParamLZ4ContentChecksum             Param = C.CODEC_PARAM_LZ4_CONTENT_CHECKSUM
	ParamLZ4BlockChecksum               Param = C.CODEC_PARAM_LZ4_BLOCK_CHECKSUM
	ParamLZ4FavorDecSpeed               Param = C.CODEC_PARAM_LZ4_FAVOR_DEC_SPEED
	ParamLZ4BlocksPageSize              Param = C.CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE
	ParamLZ4BlocksPrefixWidth           Param = C.CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH
	ParamLZ4BlocksAcceleration          Param = C.CODEC_PARAM_LZ4BLOCKS_ACCELERATION
	ParamLZ4BlocksHCLevel               Param = C.CODEC_PARAM_LZ4BLOCKS_HC_LEVEL
	ParamXZPreset                       Param = C.CODEC_PARAM_XZ_PRESET
	ParamXZExtreme                      Param = C.CODEC_PARAM_XZ_EXTREME
	ParamXZCheck                        Param = C.CODEC_PARAM_XZ_CHECK
	ParamXZDictSize                     Param = C.CODEC_PARAM_XZ_DICT_SIZE
	ParamXZLC                           Param = C.CODEC_PARAM_XZ_LC
	ParamXZLP                           Param = C.CODEC_PARAM_XZ_LP
	ParamXZPB                           Param = C.CODEC_PARAM_XZ_PB
	ParamXZMode                         Param = C.CODEC_PARAM_XZ_MODE
	ParamXZMatchFinder                  Param = C.CODEC_PARAM_XZ_MATCH_FINDER
	ParamXZNiceLen                      Param = C.CODEC_PARAM_XZ_NICE_LEN
	ParamXZDepth                        Param = C.CODEC_PARAM_XZ_DEPTH
	ParamXZDeltaDist                    Param = C.CODEC_PARAM_XZ_DELTA_DIST
	ParamXZBCJX86                       Param = C.CODEC_PARAM_XZ_BCJ_X86
	ParamXZBlockSize                    Param = C.CODEC_PARAM_XZ_BLOCK_SIZE
)

type family int

const (
	famGeneric family = iota
	famZstd
	famLZ4
	famLZ4Blocks
	famXZ
)

func (f Format) family() (family, bool) {
	switch f {
	case Zstd:
		return famZstd, true
	case LZ4:
		return famLZ4, true
	case LZ4Blocks:
		return famLZ4Blocks, true
	case XZ, LZMA2, LZMA:
		return famXZ, true
	}
	return 0, false
}

// The names of ParamByName: the C names in lower case without CODEC_PARAM_ and the family.
var paramTable = []struct {
	name   string
	family family
	param  Param
}{
	{"level", famGeneric, ParamLevel},
	{"checksum", famGeneric, ParamChecksum},
	{"threads", famGeneric, ParamThreads},
	{"memlimit", famGeneric, ParamMemLimit},
	{"debug_panic", famGeneric, ParamDebugPanic},
	{"window_log", famZstd, ParamZstdWindowLog},
	{"hash_log", famZstd, ParamZstdHashLog},
	{"chain_log", famZstd, ParamZstdChainLog},
	{"search_log", famZstd, ParamZstdSearchLog},
	{"min_match", famZstd, ParamZstdMinMatch},
	{"target_length", famZstd, ParamZstdTargetLength},
	{"strategy", famZstd, ParamZstdStrategy},
	{"enable_long_distance_matching", famZstd, ParamZstdEnableLongDistanceMatching},
	{"ldm_hash_log", famZstd, ParamZstdLDMHashLog},
	{"ldm_min_match", famZstd, ParamZstdLDMMinMatch},
	{"ldm_bucket_size_log", famZstd, ParamZstdLDMBucketSizeLog},
	{"ldm_hash_rate_log", famZstd, ParamZstdLDMHashRateLog},
	{"content_size_flag", famZstd, ParamZstdContentSizeFlag},
	{"checksum_flag", famZstd, ParamZstdChecksumFlag},
	{"dict_id_flag", famZstd, ParamZstdDictIDFlag},
	{"nb_workers", famZstd, ParamZstdNbWorkers},
	{"job_size", famZstd, ParamZstdJobSize},
	{"overlap_log", famZstd, ParamZstdOverlapLog},
	{"window_log_max", famZstd, ParamZstdWindowLogMax},
	{"block_size", famLZ4, ParamLZ4BlockSize},
	{"linked_blocks", famLZ4, ParamLZ4LinkedBlocks},
	{"content_checksum", famLZ4, ParamLZ4ContentChecksum},
	{"block_checksum", famLZ4, ParamLZ4BlockChecksum},
	{"favor_dec_speed", famLZ4, ParamLZ4FavorDecSpeed},
	{"page_size", famLZ4Blocks, ParamLZ4BlocksPageSize},
	{"prefix_width", famLZ4Blocks, ParamLZ4BlocksPrefixWidth},
	{"acceleration", famLZ4Blocks, ParamLZ4BlocksAcceleration},
	{"hc_level", famLZ4Blocks, ParamLZ4BlocksHCLevel},
	{"preset", famXZ, ParamXZPreset},
	{"extreme", famXZ, ParamXZExtreme},
	{"check", famXZ, ParamXZCheck},
	{"dict_size", famXZ, ParamXZDictSize},
	{"lc", famXZ, ParamXZLC},
	{"lp", famXZ, ParamXZLP},
	{"pb", famXZ, ParamXZPB},
	{"mode", famXZ, ParamXZMode},
	{"match_finder", famXZ, ParamXZMatchFinder},
	{"nice_len", famXZ, ParamXZNiceLen},
	{"depth", famXZ, ParamXZDepth},
	{"delta_dist", famXZ, ParamXZDeltaDist},
	{"bcj_x86", famXZ, ParamXZBCJX86},
	{"block_size", famXZ, ParamXZBlockSize},
}

// String gives the name ParamByName accepts, e.g. "window_log".
func (p Param) String() string {
	for _, e := range paramTable {
		if e.param == p {
			return e.name
		}
	}
	return fmt.Sprintf("Param(%d)", int32(p))
}

// ParamByName finds a parameter by the name the Python package and codecat use: the C name
// in lower case without CODEC_PARAM_ and the format family ("window_log" for
// CODEC_PARAM_ZSTD_WINDOW_LOG with Zstd, "dict_size" for CODEC_PARAM_XZ_DICT_SIZE with XZ,
// LZMA2 or LZMA). The format's own parameters are searched first, then the generic ones. For
// Auto a name must be unambiguous across the families.
func ParamByName(format Format, name string) (Param, error) {
	name = strings.ToLower(name)
	fam, concrete := format.family()
	var found []Param
	for _, e := range paramTable {
		if e.name == name && e.family != famGeneric && (!concrete || e.family == fam) {
			found = append(found, e.param)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(found) > 1 {
		return 0, fmt.Errorf("codec: parameter %q is ambiguous for %v: give a concrete format", name, format)
	}
	for _, e := range paramTable {
		if e.name == name && e.family == famGeneric {
			return e.param, nil
		}
	}
	return 0, fmt.Errorf("codec: unknown parameter %q for %v", name, format)
}

// ParamBounds is the accepted range [lo, hi] of p for format (Auto answers for decoders).
// An *Error with StatusUnsupported means the parameter does not apply to the format.
func ParamBounds(format Format, p Param) (lo, hi int64, err error) {
	var clo, chi C.int64_t
	err = handleless("codec_param_bounds", func() C.codec_status {
		return C.codec_param_bounds(C.codec_format(format), C.codec_param(p), &clo, &chi)
	})
	return int64(clo), int64(chi), err
}
