module libcodec.example/codec

go 1.19
