"""Chunks → index: a core both stores share (recipe, manifest, build pipeline, embedding) and one package per
store (``local/`` files, ``milvus/``) behind one protocol; ``factory`` alone chooses between them."""
