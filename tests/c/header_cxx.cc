// The header must be usable from C++ (extern "C", no C-only constructs).
#include "codec.h"
#include <cstdio>

int main() {
    codec_encoder *e = nullptr;
    if (codec_encoder_new(CODEC_FORMAT_ZSTD, &e) != CODEC_OK) return 1;
    codec_frame_header h{};
    (void)h;
    codec_encoder_free(e);
    std::printf("%s\n", codec_version_string());
    return codec_version_number() == CODEC_VERSION_NUMBER ? 0 : 1;
}
