"""Drop-in modules for the users of the libraries libcodec grew from.

Each exposes the API of one seed project, implemented on libcodec, so that code written for it
runs with only its import line changed:

* ``codec.compat.yalzma``: ``LZMAEncoder`` (``.xz`` with LZMA2 sync flush), from ``yalzma``;
* ``codec.compat.lz4framed``: LZ4 frames with resumable, cloneable and marshallable decoders,
  from the ``py-lz4framed`` fork;
* ``codec.compat.lz4stream``: LZ4 block streaming, from python-lz4's ``lz4.stream``;
* ``codec.compat.pyzstd``: zstd, from ``pyzstd`` 0.2.x.

Where a seed's behaviour was a bug that its later versions fixed, these modules follow the fix;
each module's docstring lists the differences.
"""
